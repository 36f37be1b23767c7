"""HUB406's hint names the unused build env, so the fix can be copied as it is."""

from __future__ import annotations

from hubci.validate import validate_folder
from tests.validate.support import MakeExecutor


def test_unused_build_env_hint_names_the_variable(make_executor: MakeExecutor) -> None:
    folder = make_executor({"requirements.txt": "torch==${TORCH_VERSION}\n"})
    report = validate_folder(
        folder, build_env={"TORCH_VERSION": None, "MODEL_REVISION": None}, dockerfile=None
    )
    unused = [f for f in report.findings if f.code == "HUB406"]
    assert [(f.message, f.hint) for f in unused] == [
        (
            "--build-env MODEL_REVISION is not used in requirements.txt",
            "remove --build-env MODEL_REVISION, or reference it as ${MODEL_REVISION} in "
            "requirements.txt",
        )
    ]
