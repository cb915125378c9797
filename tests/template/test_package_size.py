"""Each function plus its layers must fit Lambda's 250 MB unzipped limit (262,144,000 bytes).

The shared layer and the function code are measured in the output of ``sam build`` (run
``make sam-build`` first; ``make template`` does both). The AWS SDK for pandas layer is not built
here, so its size is a published figure, below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / ".aws-sam" / "build"
FUNCTIONS = ("IngestCurFunction", "IngestInvocationsFunction", "RefreshProfilesFunction")

# Lambda's limit on a function's code plus all its layers, unzipped.
LAMBDA_UNZIPPED_LIMIT = 262_144_000

# Unzipped size of the AWS SDK for pandas layer for python3.13: 167 MiB for release 3.16.0, measured
# with `du -h` and reported in the aws/aws-sdk-pandas GitHub issue "Stark increase in layer size with
# version 3.16.1". Release 3.16.1 grew to 204 MiB by linking ICU into Arrow. The build script of the
# 3.17.0 layer that the template uses builds Arrow with ARROW_WITH_ICU=OFF again.
# NOTE: this is a published figure for an earlier release, not a measurement of the deployed
# version. Installing awswrangler 3.17.0's own PyPI wheels for aarch64 gives 272 MiB after the
# layer build's removals (PyPI's pyarrow carries Flight, ORC and Substrait, which the layer omits).
PANDAS_LAYER_BYTES = 167 * 1024 * 1024

pytestmark = pytest.mark.package_size


def _size(path: Path) -> int:
    """Sum of file sizes below a folder, as Lambda counts unzipped bytes."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file() and not file.is_symlink())


@pytest.fixture(scope="module")
def build_dir() -> Path:
    if not (BUILD_DIR / "template.yaml").is_file():
        pytest.fail(f"{BUILD_DIR} has no sam build output; run `make sam-build` first")
    return BUILD_DIR


def test_shared_layer_leaves_out_runtime_packages(build_dir: Path) -> None:
    site = build_dir / "SharedLayer" / "python"
    present = {path.name for path in site.iterdir()}
    assert "genai_finops" in present
    for provided in ("boto3", "botocore", "s3transfer", "pandas", "pyarrow", "numpy", "awswrangler"):
        assert provided not in present, f"{provided} is provided by the runtime or the pandas layer"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_with_layers_fits_lambda_limit(build_dir: Path, function: str) -> None:
    code = _size(build_dir / function)
    shared = _size(build_dir / "SharedLayer")
    total = code + shared + PANDAS_LAYER_BYTES
    print(f"{function}: code {code} + shared layer {shared} + pandas layer {PANDAS_LAYER_BYTES} = {total} bytes")
    assert total < LAMBDA_UNZIPPED_LIMIT, (
        f"{function} with layers is {total} bytes unzipped, over Lambda's {LAMBDA_UNZIPPED_LIMIT}"
    )
