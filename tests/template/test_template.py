"""Security and wiring rules for template.yaml, checked on the template as written (cfn-lint's decoder)."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from genai_finops.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

# Statements that AWS accepts only with Resource "*", identified by (resource, Sid).
RESOURCE_STAR_ALLOWED = {
    # X-Ray has no resource types: PutTraceSegments and PutTelemetryRecords take only "*".
    ("IngestCurRole", "WriteTraces"),
    ("IngestInvocationsRole", "WriteTraces"),
    ("RefreshProfilesRole", "WriteTraces"),
    *(
        (f"Monthly{step}Role", "WriteTraces")
        for step in ("PrepareRun", "RefreshAttribution", "Forecast", "Showback", "Budgets", "Publish", "RecordRun")
    ),
    ("MonthlyStateMachineRole", "WriteTraces"),
    ("DetectAnomaliesRole", "WriteTraces"),
    # Step Functions log delivery to CloudWatch Logs: the vended-log actions take only "*".
    ("MonthlyStateMachineRole", "DeliverLogs"),
    # bedrock:ListInferenceProfiles has no resource types.
    ("RefreshProfilesRole", "ListInferenceProfiles"),
    # A KMS key policy's Resource is always "*", meaning the key itself.
    ("AlertsKey", "AccountAdministration"),
    ("AlertsKey", "CloudWatchAlarmsPublish"),
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    decoded, matches = decode(str(ROOT / "template.yaml"))
    assert not matches, f"template.yaml does not parse: {matches}"
    assert decoded is not None
    return dict(decoded)


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


def _properties(resource: dict[str, Any]) -> dict[str, Any]:
    return dict(resource.get("Properties", {}))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for statement in _as_list(document.get("Statement", [])):
        if "Fn::If" in statement:
            # Both branches of a condition are possible statements (AWS::NoValue is skipped).
            for branch in statement["Fn::If"][1:]:
                if isinstance(branch, dict) and branch != {"Ref": "AWS::NoValue"}:
                    yield branch
        else:
            yield statement


def _all_policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, role in _resources(template, "AWS::IAM::Role").items():
        for policy in _properties(role).get("Policies", []):
            for statement in _statements(policy["PolicyDocument"]):
                yield name, statement
    for kind in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
        for name, resource in _resources(template, kind).items():
            for statement in _statements(_properties(resource)["PolicyDocument"]):
                yield name, statement
    for name, key in _resources(template, "AWS::KMS::Key").items():
        for statement in _statements(_properties(key)["KeyPolicy"]):
            yield name, statement


def _references(value: Any) -> set[str]:
    """Return the logical ids a value refers to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(part.split("}")[0].split(".")[0] for part in str(text).split("${")[1:])
                found |= _references(inner)
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


# -- storage ------------------------------------------------------------------------------------------


def test_buckets_encrypted_and_private(template: dict[str, Any]) -> None:
    buckets = _resources(template, "AWS::S3::Bucket")
    assert {"LakeBucket", "AthenaResultsBucket"} <= set(buckets)
    for name, bucket in buckets.items():
        properties = _properties(bucket)
        rules = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}, name
        block = properties["PublicAccessBlockConfiguration"]
        for setting in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
            assert block[setting] is True, f"{name}.{setting}"


def test_buckets_deny_insecure_transport(template: dict[str, Any]) -> None:
    policies = _resources(template, "AWS::S3::BucketPolicy")
    protected = set()
    for policy in policies.values():
        properties = _properties(policy)
        for statement in _statements(properties["PolicyDocument"]):
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                protected |= _references(properties["Bucket"])
    assert protected == set(_resources(template, "AWS::S3::Bucket"))


def test_topics_and_queues_encrypted(template: dict[str, Any]) -> None:
    for name, topic in _resources(template, "AWS::SNS::Topic").items():
        assert "KmsMasterKeyId" in _properties(topic), name
    queues = _resources(template, "AWS::SQS::Queue")
    assert {"LogObjectQueue", "LogObjectDeadLetterQueue", "IngestCurFailedEventsQueue"} <= set(queues)
    for name, queue in queues.items():
        properties = _properties(queue)
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, name


def test_kms_key_rotates(template: dict[str, Any]) -> None:
    for name, key in _resources(template, "AWS::KMS::Key").items():
        assert _properties(key)["EnableKeyRotation"] is True, name


def test_athena_workgroup_limits_and_encrypts(template: dict[str, Any]) -> None:
    workgroup = _properties(template["Resources"]["AthenaWorkGroup"])["WorkGroupConfiguration"]
    assert workgroup["EnforceWorkGroupConfiguration"] is True
    assert workgroup["BytesScannedCutoffPerQuery"] == {"Ref": "AthenaBytesScannedCutoff"}
    assert workgroup["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"


# -- IAM --------------------------------------------------------------------------------------------


def test_no_statement_allows_every_action(template: dict[str, Any]) -> None:
    for name, statement in _all_policy_statements(template):
        assert "*" not in _as_list(statement.get("Action", [])), f"{name}.{statement.get('Sid')}"
        assert "NotAction" not in statement, f"{name}.{statement.get('Sid')}"


def test_resource_star_only_where_required(template: dict[str, Any]) -> None:
    found = set()
    for name, statement in _all_policy_statements(template):
        if "*" in _as_list(statement.get("Resource", [])):
            found.add((name, statement.get("Sid")))
    assert found <= RESOURCE_STAR_ALLOWED
    # Every allowed exception is still needed; a stale entry would hide a new "*".
    assert found == RESOURCE_STAR_ALLOWED


def test_allow_statements_have_no_wildcard_service_action(template: dict[str, Any]) -> None:
    for name, statement in _all_policy_statements(template):
        if statement["Effect"] != "Allow" or name == "AlertsKey":
            continue
        for action in _as_list(statement["Action"]):
            assert not str(action).endswith(":*"), f"{name}.{statement.get('Sid')}: {action}"


def test_each_function_has_own_role(template: dict[str, Any]) -> None:
    functions = _resources(template, "AWS::Serverless::Function")
    roles = [_references(_properties(function)["Role"]) for function in functions.values()]
    assert all(len(role) == 1 for role in roles)
    assert len({next(iter(role)) for role in roles}) == len(functions)
    for function in functions.values():
        assert "Policies" not in _properties(function)


def test_functions_read_only_their_inputs(template: dict[str, Any]) -> None:
    granted: dict[str, set[str]] = {}
    for name, statement in _all_policy_statements(template):
        if name.endswith("Role"):
            for action in _as_list(statement["Action"]):
                granted.setdefault(name, set()).add(str(action))
    # Both ingests mask IAM principals with the user-key secret, and no other function reads it.
    readers = {name for name, actions in granted.items() if "secretsmanager:GetSecretValue" in actions}
    assert readers == {"IngestCurRole", "IngestInvocationsRole"}
    for name, statement in _all_policy_statements(template):
        if "secretsmanager:GetSecretValue" in _as_list(statement["Action"]):
            assert statement["Resource"] == {"Ref": "UserKeySecret"}, name
    assert not any(
        action.startswith("bedrock:") for action in granted["IngestCurRole"] | granted["IngestInvocationsRole"]
    )
    assert not any(action.startswith("athena:") for action in granted["RefreshProfilesRole"])


# -- functions ----------------------------------------------------------------------------------------


def test_functions_run_python313_on_arm64(template: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]
    for function in _resources(template, "AWS::Serverless::Function").values():
        properties = _properties(function)
        assert properties.get("Runtime", globals_["Runtime"]) == "python3.13"
        assert properties.get("Architectures", globals_["Architectures"]) == ["arm64"]


def test_pandas_layer_is_python313_arm64(template: dict[str, Any]) -> None:
    layers = template["Globals"]["Function"]["Layers"]
    default_arn = layers[0]["Fn::If"][2]["Fn::Sub"][0]
    assert ":336392948345:layer:AWSSDKPandas-Python313-Arm64:" in default_arn
    assert layers[1] == {"Ref": "SharedLayer"}
    shared = _properties(template["Resources"]["SharedLayer"])
    assert shared["ContentUri"] == "layers/shared"
    assert shared["CompatibleRuntimes"] == ["python3.13"]
    assert shared["CompatibleArchitectures"] == ["arm64"]


def test_environment_variables_match_settings(template: dict[str, Any]) -> None:
    names = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for function in _resources(template, "AWS::Serverless::Function").values():
        names |= set(_properties(function).get("Environment", {}).get("Variables", {}))
    fields = {f"GENAI_FINOPS_{name.upper()}" for name in Settings.model_fields}
    ours = {name for name in names if name.startswith("GENAI_FINOPS_")}
    assert ours <= fields, f"variables Settings does not read: {sorted(ours - fields)}"
    assert names - ours <= {"POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE"}


def test_function_code_defines_handler(template: dict[str, Any]) -> None:
    functions = _resources(template, "AWS::Serverless::Function")
    assert {"IngestCurFunction", "IngestInvocationsFunction", "RefreshProfilesFunction"} <= set(functions)
    for name, function in functions.items():
        properties = _properties(function)
        module, handler = properties["Handler"].rsplit(".", 1)
        source = (ROOT / properties["CodeUri"] / f"{module}.py").read_text(encoding="utf-8")
        tree = ast.parse(source)
        imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    for alias in node.names}  # fmt: skip
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert handler in imported | defined, f"{name}: {properties['CodeUri']}/{module}.py has no {handler}"


def test_log_queue_wiring(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    function = _properties(resources["IngestInvocationsFunction"])
    queue = _properties(resources["LogObjectQueue"])
    event = function["Events"]["LogObjects"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert _references(event["Queue"]) == {"LogObjectQueue"}
    assert function["ReservedConcurrentExecutions"] == 1
    assert queue["VisibilityTimeout"] == 6 * function["Timeout"]
    assert _references(queue["RedrivePolicy"]["deadLetterTargetArn"]) == {"LogObjectDeadLetterQueue"}
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 5


def test_cur_ingestion_runs_one_at_a_time(template: dict[str, Any]) -> None:
    function = _properties(template["Resources"]["IngestCurFunction"])
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["EventInvokeConfig"]["MaximumRetryAttempts"] == 2
    assert _references(function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"]) == {
        "IngestCurFailedEventsQueue"
    }


def test_event_rules_match_manifests_and_log_objects(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    cur_pattern = _properties(resources["IngestCurFunction"])["Events"]["ManifestCreated"]["Properties"]["Pattern"]
    assert cur_pattern["detail-type"] == ["Object Created"]
    assert cur_pattern["detail"]["bucket"]["name"] == [{"Ref": "ExportBucketName"}]
    assert cur_pattern["detail"]["object"]["key"][0]["wildcard"]["Fn::Sub"].endswith("*-Manifest.json")

    log_rule = _properties(resources["LogObjectCreatedRule"])
    assert log_rule["EventPattern"]["detail"]["bucket"]["name"] == [{"Ref": "LogBucketName"}]
    assert "AWSLogs/" in log_rule["EventPattern"]["detail"]["object"]["key"][0]["wildcard"]["Fn::Sub"]
    assert _references(log_rule["Targets"][0]["Arn"]) == {"LogObjectQueue"}
    assert _references(log_rule["Targets"][0]["DeadLetterConfig"]["Arn"]) == {"LogObjectDeadLetterQueue"}


def test_sample_events_are_valid_json() -> None:
    files = sorted((ROOT / "events").glob("*.json"))
    assert files
    for file in files:
        assert isinstance(json.loads(file.read_text(encoding="utf-8")), dict), file.name
