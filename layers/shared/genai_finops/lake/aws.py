"""The AWS lake: Parquet partitions in S3, their locations in the Glue Data Catalog, SQL on Athena.

Layout in the lake bucket::

    tables/<table>/<key>=<value>/.../g=<generation>/part-*.parquet   data files
    documents/<key>                                                   reports, outbox, markers

Publishing a partition uploads its files under a new generation prefix and then points the Glue
partition (or, for an unpartitioned table, the table) at that prefix. That one catalog update is the
atomic step: Athena reads either the old generation or the new one, never both and never neither.
The previous generation's objects are deleted afterwards.
"""

from __future__ import annotations

import math
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
import sqlglot.errors
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from sqlglot import exp

from ..errors import ConfigError, LakeError
from ..observability import logger
from ..sql import SqlError
from ..tables import TABLES, TableSpec, get_table
from .local import GENERATION_KEY, partition_path

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_glue.type_defs import ColumnTypeDef, StorageDescriptorTypeDef, TableInputTypeDef
    from mypy_boto3_s3 import S3Client

    from ..settings import Settings

PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
TABLES_PREFIX = "tables"
DOCUMENTS_PREFIX = "documents"
# DeleteObjects accepts at most 1,000 keys per request.
DELETE_BATCH_SIZE = 1000


# Arrow type tests and the Athena (Hive DDL) name of each primitive type.
_PRIMITIVE_TYPES: tuple[tuple[Callable[[pa.DataType], bool], str], ...] = (
    (pa.types.is_string, "string"),
    (pa.types.is_large_string, "string"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_int8, "tinyint"),
    (pa.types.is_int16, "smallint"),
    (pa.types.is_int32, "int"),
    (pa.types.is_int64, "bigint"),
    (pa.types.is_float32, "float"),
    (pa.types.is_float64, "double"),
    (pa.types.is_timestamp, "timestamp"),
    (pa.types.is_date32, "date"),
    (pa.types.is_date64, "date"),
    (pa.types.is_binary, "binary"),
    (pa.types.is_large_binary, "binary"),
)


def athena_type(data_type: pa.DataType) -> str:
    """Return the Athena (Hive DDL) type name of an Arrow type, as Glue column definitions expect."""
    for is_type, name in _PRIMITIVE_TYPES:
        if is_type(data_type):
            return name

    if pa.types.is_decimal(data_type):
        return f"decimal({data_type.precision},{data_type.scale})"
    if pa.types.is_map(data_type):
        return f"map<{athena_type(data_type.key_type)},{athena_type(data_type.item_type)}>"
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return f"array<{athena_type(data_type.value_type)}>"
    if pa.types.is_struct(data_type):
        fields = ",".join(f"{field.name}:{athena_type(field.type)}" for field in data_type)
        return f"struct<{fields}>"
    raise LakeError(f"Arrow type {data_type} has no Athena equivalent; add a mapping in lake/aws.py")


def athena_literal(value: Any) -> str:
    """Render one query parameter as the SQL literal that Athena's execution parameters expect.

    Athena substitutes each ``?`` with the literal text given for it, so strings must carry their
    own quotes, and dates and timestamps are cast from strings as the Athena user guide shows
    ("Use parameterized queries"). Timezone-aware datetimes are converted to UTC, because lake
    timestamps are UTC.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise LakeError(f"query parameter {value!r} is not a finite decimal")
        return f"DECIMAL '{value:f}'"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LakeError(f"query parameter {value!r} is not a finite number")
        return f"DOUBLE '{value!r}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return f"CAST('{value.isoformat(sep=' ', timespec='microseconds')}' AS TIMESTAMP)"
    if isinstance(value, date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    raise LakeError(
        f"query parameter of type {type(value).__name__} is not supported; pass str, int, "
        "float, bool, Decimal, date, datetime or None"
    )


def referenced_tables(sql: str) -> set[str]:
    """Return the names of the tables a Trino statement reads (common table expressions excluded)."""
    try:
        tree = sqlglot.parse_one(sql, read="trino")
    except sqlglot.errors.ParseError as error:
        raise SqlError(f"SQL does not parse as Trino: {error}") from error
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {table.name for table in tree.find_all(exp.Table) if table.name and table.name not in ctes}


def glue_columns(schema: pa.Schema) -> list[ColumnTypeDef]:
    """Return Glue column definitions for the fields of an Arrow schema."""
    return [{"Name": field.name, "Type": athena_type(field.type)} for field in schema]


def split_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into bucket and key, or raise ConfigError naming the URI."""
    if not uri.startswith("s3://"):
        raise ConfigError(f"invalid S3 URI {uri!r}: expected s3://bucket/key")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ConfigError(f"invalid S3 URI {uri!r}: the bucket name is missing")
    return bucket, key


class QueryEngine(Protocol):
    """Runs Trino SQL over the lake's Glue tables. Production uses Athena; tests inject a fake."""

    def run(self, sql: str, params: Sequence[Any]) -> pa.Table:
        """Run one statement with ``?`` parameters and return its result."""
        ...


class AthenaQueryEngine:
    """Runs queries on Athena through awswrangler, in one workgroup and database.

    Parameters are sent as Athena execution parameters (server-side ``?`` substitution), never
    formatted into the SQL text. Athena accepts ``?`` only in WHERE clauses of SELECT, INSERT INTO,
    CTAS and UNLOAD statements. The workgroup enforces its result location, encryption and
    bytes-scanned limit. With ``unload_uri`` set, results come back through ``UNLOAD`` as Parquet,
    which keeps DECIMAL, timestamp, map and array columns typed. Each query unloads into its own
    folder below that URI, and the folder is deleted after reading. Without ``unload_uri``,
    awswrangler reads Athena's CSV result, which returns map and array columns as text.
    """

    def __init__(self, session: boto3.Session, database: str, workgroup: str, unload_uri: str | None) -> None:
        self.session = session
        self.database = database
        self.workgroup = workgroup
        self.unload_uri = unload_uri

    def run(self, sql: str, params: Sequence[Any]) -> pa.Table:
        # awswrangler imports pandas; loading it only here keeps cold starts of writers short.
        import awswrangler as wr

        execution_parameters = [athena_literal(value) for value in params] or None
        options: dict[str, Any] = {"ctas_approach": False}
        if self.unload_uri:
            # NOTE: UNLOAD writes several files in no particular order, so ORDER BY is not kept.
            options.update(
                unload_approach=True,
                s3_output=f"{self.unload_uri.rstrip('/')}/{uuid.uuid4().hex}/",
                keep_files=False,
            )
        try:
            frame = wr.athena.read_sql_query(
                sql,
                database=self.database,
                workgroup=self.workgroup,
                params=execution_parameters,
                paramstyle="qmark",
                dtype_backend="pyarrow",
                boto3_session=self.session,
                **options,
            )
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"Athena query in workgroup {self.workgroup} failed: {error}") from error
        except (wr.exceptions.QueryFailed, wr.exceptions.QueryCancelled, wr.exceptions.NoFilesFound) as error:
            raise LakeError(f"Athena query in workgroup {self.workgroup} failed: {error}") from error
        return pa.Table.from_pandas(frame, preserve_index=False)


class AwsLake:
    """A lake in an S3 bucket, catalogued in one Glue database and queried through one Athena workgroup."""

    def __init__(
        self,
        bucket: str,
        database: str,
        workgroup: str,
        *,
        session: boto3.Session | None = None,
        scratch_dir: Path | None = None,
        unload_uri: str | None = None,
        query_engine: QueryEngine | None = None,
    ) -> None:
        self.bucket = bucket
        self.database = database
        self.workgroup = workgroup
        self.session = session or boto3.Session()
        self.scratch_dir = Path(scratch_dir or tempfile.gettempdir())
        self.query_engine = query_engine or AthenaQueryEngine(self.session, database, workgroup, unload_uri)
        # Tables this instance has seen in Glue; Glue is asked again only about new names.
        self._known_tables: set[str] = set()
        self._s3: S3Client = self.session.client("s3")
        self._glue: GlueClient = self.session.client("glue")

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        session: boto3.Session | None = None,
        query_engine: QueryEngine | None = None,
    ) -> AwsLake:
        """Build the lake from runtime settings, checking that every AWS setting is present."""
        missing = [
            f"GENAI_FINOPS_{name.upper()}"
            for name in ("lake_bucket", "glue_database", "athena_workgroup")
            if not getattr(settings, name)
        ]
        if missing:
            raise ConfigError(f"the AWS runtime needs these environment variables: {', '.join(missing)}")
        assert settings.lake_bucket
        assert settings.glue_database
        assert settings.athena_workgroup
        if session is None:
            session = boto3.Session(region_name=settings.region) if settings.region else boto3.Session()
        return cls(
            settings.lake_bucket,
            settings.glue_database,
            settings.athena_workgroup,
            session=session,
            scratch_dir=settings.scratch_dir,
            unload_uri=settings.athena_unload_uri,
            query_engine=query_engine,
        )

    # -- locations -------------------------------------------------------------------------------

    def _table_prefix(self, table: str) -> str:
        return f"{TABLES_PREFIX}/{table}/"

    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _key_of(self, uri: str) -> str | None:
        """Return the key of a URI inside the lake bucket, or None when it points elsewhere."""
        prefix = f"s3://{self.bucket}/"
        return uri.removeprefix(prefix) if uri.startswith(prefix) else None

    # -- Glue catalog ----------------------------------------------------------------------------

    def _storage_descriptor(self, spec: TableSpec, location: str) -> StorageDescriptorTypeDef:
        return {
            "Columns": glue_columns(spec.schema),
            "Location": location,
            "InputFormat": PARQUET_INPUT_FORMAT,
            "OutputFormat": PARQUET_OUTPUT_FORMAT,
            "Compressed": False,
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {"serialization.format": "1"}},
        }

    def _table_input(self, spec: TableSpec, location: str) -> TableInputTypeDef:
        return {
            "Name": spec.name,
            "Description": spec.row_meaning,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in spec.partition_keys],
            "StorageDescriptor": self._storage_descriptor(spec, location),
        }

    def _get_table(self, name: str) -> dict[str, Any] | None:
        try:
            response = self._glue.get_table(DatabaseName=self.database, Name=name)
        except self._glue.exceptions.EntityNotFoundException:
            return None
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"reading Glue table {self.database}.{name} failed: {error}") from error
        return dict(response["Table"])

    def _ensure_table(self, spec: TableSpec, location: str) -> dict[str, Any] | None:
        """Create the Glue table from the registry if missing, or update its columns if they changed.

        Return the table as it was before this call, or None when it was created now.
        """
        existing = self._get_table(spec.name)
        expected = self._table_input(spec, location)
        try:
            if existing is None:
                self._glue.create_table(DatabaseName=self.database, TableInput=expected)
                logger.info("glue table created", extra={"table": spec.name, "database": self.database})
                return None
            current_columns = existing.get("StorageDescriptor", {}).get("Columns", [])
            current_keys = existing.get("PartitionKeys", [])
            same_columns = _column_pairs(current_columns) == _column_pairs(expected["StorageDescriptor"]["Columns"])
            same_keys = _column_pairs(current_keys) == _column_pairs(expected["PartitionKeys"])
            if not (same_columns and same_keys):
                # Keep the current location: for an unpartitioned table it moves only when published.
                current_location = existing.get("StorageDescriptor", {}).get("Location", location)
                self._glue.update_table(
                    DatabaseName=self.database, TableInput=self._table_input(spec, current_location)
                )
                logger.info("glue table schema updated", extra={"table": spec.name, "database": self.database})
        except self._glue.exceptions.AlreadyExistsException:
            # Another writer created it between the read and the create; its definition is the registry's.
            return self._get_table(spec.name)
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"creating or updating Glue table {self.database}.{spec.name} failed: {error}") from error
        return existing

    def _partition_location(self, spec: TableSpec, values: list[str]) -> str | None:
        try:
            response = self._glue.get_partition(DatabaseName=self.database, TableName=spec.name, PartitionValues=values)
        except self._glue.exceptions.EntityNotFoundException:
            return None
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"reading Glue partition {spec.name}{values} failed: {error}") from error
        return response["Partition"].get("StorageDescriptor", {}).get("Location")

    def _point_partition(self, spec: TableSpec, values: list[str], location: str, exists: bool) -> None:
        partition_input = {"Values": values, "StorageDescriptor": self._storage_descriptor(spec, location)}
        try:
            if exists:
                self._glue.update_partition(
                    DatabaseName=self.database,
                    TableName=spec.name,
                    PartitionValueList=values,
                    PartitionInput=partition_input,  # type: ignore[arg-type]
                )
                return
            try:
                self._glue.create_partition(
                    DatabaseName=self.database,
                    TableName=spec.name,
                    PartitionInput=partition_input,  # type: ignore[arg-type]
                )
            except self._glue.exceptions.AlreadyExistsException:
                # Another writer registered the partition first; the newest write wins, as with an update.
                self._glue.update_partition(
                    DatabaseName=self.database,
                    TableName=spec.name,
                    PartitionValueList=values,
                    PartitionInput=partition_input,  # type: ignore[arg-type]
                )
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"registering Glue partition {spec.name}{values} at {location} failed: {error}") from error

    # -- S3 objects ------------------------------------------------------------------------------

    def _list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        try:
            paginator = self._s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"listing s3://{self.bucket}/{prefix} failed: {error}") from error
        return keys

    def _delete_keys(self, keys: Iterable[str]) -> None:
        batch: list[str] = []
        for key in keys:
            batch.append(key)
            if len(batch) == DELETE_BATCH_SIZE:
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    def _delete_batch(self, keys: list[str]) -> None:
        try:
            response = self._s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
            )
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"deleting {len(keys)} objects from s3://{self.bucket} failed: {error}") from error
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise LakeError(
                f"deleting {len(errors)} of {len(keys)} objects from s3://{self.bucket} failed, first "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )

    def _delete_generation(self, table: str, location: str) -> None:
        """Delete a replaced generation's objects.

        It runs after the catalog swap, so a failure only leaves unreferenced objects behind.
        """
        key = self._key_of(location)
        if key is None or not key.startswith(self._table_prefix(table)):
            logger.warning("previous location is outside the lake; not deleted", extra={"table": table})
            return
        prefix = key if key.endswith("/") else key + "/"
        if not prefix.rstrip("/").rsplit("/", 1)[-1].startswith(f"{GENERATION_KEY}="):
            # An empty table created before its first publish points at the table's root folder,
            # which contains the new generation: only generation folders are ever deleted.
            return
        try:
            self._delete_keys(self._list_keys(prefix))
        except LakeError as error:
            logger.warning(
                "previous generation not deleted", extra={"table": table, "prefix": prefix, "error": str(error)}
            )

    def _upload(self, files: Sequence[Path], prefix: str) -> list[str]:
        uploaded: list[str] = []
        try:
            for index, source in enumerate(files):
                key = f"{prefix}part-{index:05d}.parquet"
                self._s3.upload_file(str(source), self.bucket, key)
                uploaded.append(key)
        except (ClientError, BotoCoreError, Boto3Error, OSError) as error:
            try:
                self._delete_keys(uploaded)
            except LakeError as cleanup_error:
                logger.warning(
                    "uploaded files of a failed publish not deleted",
                    extra={"prefix": prefix, "error": str(cleanup_error)},
                )
            raise LakeError(f"uploading to s3://{self.bucket}/{prefix} failed: {error}") from error
        return uploaded

    # -- Lake port: writing ----------------------------------------------------------------------

    def staging_dir(self) -> Path:
        path = self.scratch_dir / "genai-finops-staging" / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    def publish_partition(self, table: str, partition: Mapping[str, str], files: Sequence[Path]) -> None:
        spec = get_table(table)
        relative = partition_path(spec, partition)
        generation = uuid.uuid4().hex[:16]
        parts = (TABLES_PREFIX, table, relative, f"{GENERATION_KEY}={generation}")
        prefix = "/".join(part for part in parts if part) + "/"
        location = self._uri(prefix)

        self._upload(files, prefix)
        for source in files:
            source.unlink(missing_ok=True)

        if spec.partition_keys:
            self._ensure_table(spec, self._uri(self._table_prefix(table)))
            values = [str(partition[key]) for key in spec.partition_keys]
            previous = self._partition_location(spec, values)
            self._point_partition(spec, values, location, exists=previous is not None)
        else:
            existing = self._ensure_table(spec, location)
            previous = None
            if existing is not None:
                previous = existing.get("StorageDescriptor", {}).get("Location")
                try:
                    self._glue.update_table(DatabaseName=self.database, TableInput=self._table_input(spec, location))
                except (ClientError, BotoCoreError) as error:
                    raise LakeError(f"pointing Glue table {table} at {location} failed: {error}") from error

        logger.info(
            "partition published",
            extra={"table": table, "partition": relative, "generation": generation, "file_count": len(files)},
        )
        if previous and previous.rstrip("/") != location.rstrip("/"):
            self._delete_generation(table, previous)

    def write_partition(self, table: str, partition: Mapping[str, str], data: pa.Table) -> None:
        spec = get_table(table)
        staging = self.staging_dir()
        file = staging / "part-00000.parquet"
        try:
            # Snappy, not zstd: the AWS SDK for pandas layer builds pyarrow without zstd (its
            # build-lambda-layer.sh sets ARROW_WITH_ZSTD=OFF), so Lambda could not read zstd back.
            pq.write_table(data.select(spec.schema.names).cast(spec.schema), file, compression="snappy")
            self.publish_partition(table, partition, [file])
        finally:
            file.unlink(missing_ok=True)
            staging.rmdir()

    def drop_partition(self, table: str, partition: Mapping[str, str]) -> bool:
        spec = get_table(table)
        partition_path(spec, partition)
        if not spec.partition_keys:
            existing = self._get_table(table)
            if existing is None:
                return False
            try:
                self._glue.delete_table(DatabaseName=self.database, Name=table)
            except (ClientError, BotoCoreError) as error:
                raise LakeError(f"deleting Glue table {self.database}.{table} failed: {error}") from error
            location = existing.get("StorageDescriptor", {}).get("Location")
            if location:
                self._delete_generation(table, location)
            return True

        values = [str(partition[key]) for key in spec.partition_keys]
        location = self._partition_location(spec, values)
        if location is None:
            return False
        try:
            self._glue.delete_partition(DatabaseName=self.database, TableName=table, PartitionValues=values)
        except self._glue.exceptions.EntityNotFoundException:
            return False
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"deleting Glue partition {table}{values} failed: {error}") from error
        self._delete_generation(table, location)
        return True

    def partitions(self, table: str) -> list[dict[str, str]]:
        spec = get_table(table)
        if not spec.partition_keys:
            # A table created empty by a query points at its root folder and has no content yet.
            existing = self._get_table(table)
            location = (existing or {}).get("StorageDescriptor", {}).get("Location", "")
            return [{}] if f"/{GENERATION_KEY}=" in location else []
        result: list[dict[str, str]] = []
        try:
            paginator = self._glue.get_paginator("get_partitions")
            for page in paginator.paginate(DatabaseName=self.database, TableName=table):
                for item in page["Partitions"]:
                    result.append(dict(zip(spec.partition_keys, item["Values"], strict=True)))
        except self._glue.exceptions.EntityNotFoundException:
            return []
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"listing Glue partitions of {self.database}.{table} failed: {error}") from error
        return sorted(result, key=lambda values: [values[key] for key in spec.partition_keys])

    # -- Lake port: reading ----------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run Trino SQL over the lake's tables and return the result as Arrow (Athena in production).

        A registered table that no step has written yet is created empty first, so that it reads as
        zero rows, as in the local lake; Athena would otherwise fail on a table missing from Glue.
        """
        for name in referenced_tables(sql):
            if name in TABLES and name not in self._known_tables:
                spec = TABLES[name]
                self._ensure_table(spec, self._uri(self._table_prefix(name)))
                self._known_tables.add(name)
        return self.query_engine.run(sql, params)

    # -- Lake port: documents --------------------------------------------------------------------

    def _document_key(self, key: str) -> str:
        parts = [part for part in key.split("/") if part]
        if not parts or any(part in {".", ".."} for part in parts):
            raise LakeError(f"invalid document key {key!r}")
        return "/".join((DOCUMENTS_PREFIX, *parts))

    def put_document(self, key: str, body: bytes) -> None:
        object_key = self._document_key(key)
        try:
            self._s3.put_object(Bucket=self.bucket, Key=object_key, Body=body)
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"writing s3://{self.bucket}/{object_key} failed: {error}") from error

    def get_document(self, key: str) -> bytes | None:
        object_key = self._document_key(key)
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=object_key)
            return response["Body"].read()
        except self._s3.exceptions.NoSuchKey:
            return None
        except (ClientError, BotoCoreError) as error:
            raise LakeError(f"reading s3://{self.bucket}/{object_key} failed: {error}") from error

    def list_documents(self, prefix: str) -> list[str]:
        base = DOCUMENTS_PREFIX + "/"
        keys = (key.removeprefix(base) for key in self._list_keys(base + prefix.lstrip("/")))
        return sorted(key for key in keys if not key.rsplit("/", 1)[-1].startswith("."))


def _column_pairs(columns: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(str(column["Name"]), str(column["Type"]).replace(" ", "").lower()) for column in columns]
