"""Every ```python example in README.md and docs/*.md runs as a Pulumi program under the offline
engine, with a dev-like stack config (STYLE rule 24: examples people copy must work)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.config.load import read_stack_file
from infra.engine.runner import run_program
from tests.helpers import REPO, STACKS_DIR

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of each fenced block whose language is python or py."""
    return fenced_blocks(text, ("python", "py", "python3"))


def fenced_blocks(text: str, languages: tuple[str, ...]) -> list[tuple[int, str]]:
    """(first line number, code) of each fenced block in one of `languages`."""
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, lang = match["fence"], (match["info"].split() or [""])[0].lower()
        indent = len(match["indent"])
        body, j = [], i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence[0] * len(fence))
                                      and set(lines[j].strip()) == {fence[0]}):
            body.append(lines[j][indent:] if lines[j][:indent].isspace() else lines[j])
            j += 1
        if lang in languages:
            blocks.append((i + 2, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def doc_files() -> list[Path]:
    files = [REPO / "README.md"] if (REPO / "README.md").exists() else []
    return files + sorted((REPO / "docs").glob("*.md"))


def examples() -> list[pytest.param]:
    found = [pytest.param(path, line, code, id=f"{path.relative_to(REPO)}:{line}")
             for path in doc_files() for line, code in python_blocks(path.read_text())]
    return found or [pytest.param(None, 0, "", id="no-examples-yet",
                                  marks=pytest.mark.skip(reason="no ```python blocks in the docs yet"))]


DEV_CONFIG, DEV_SECRETS = read_stack_file(STACKS_DIR / "Pulumi.dev.yaml")


@pytest.mark.parametrize(("path", "line", "code"), examples())
def test_docs_example_plans(path: Path, line: int, code: str) -> None:
    """The example runs to completion as a Pulumi program under mocks (imports resolve, specs
    validate, components build) and registers what it declares."""
    compiled = compile(code, f"{path}:{line}", "exec")
    plan = run_program(lambda: exec(compiled, {"__name__": "__main__"}), project="aidc",
                       stack="docs", config=DEV_CONFIG, secret_keys=DEV_SECRETS)
    assert plan.resources, f"{path}:{line} registered nothing, not even the stack"


# ---------------------------------------------------------------------------------------------
# the extractor itself, so that a silent "found nothing" cannot pass for "all examples work"


def test_extracts_python_blocks_only() -> None:
    """python/py blocks are found with their first code line; sh, console and plain fences are
    not; longer fences and indented fences work."""
    text = "\n".join([
        "# Title", "```python", "a = 1", "```", "```sh", "make test", "```", "````py",
        "b = '```'", "````", "  ```python", "  c = 3", "  ```", "```", "plain", "```"])
    assert python_blocks(text) == [(3, "a = 1\n"), (9, "b = '```'\n"), (12, "c = 3\n")]


def test_readme_examples_are_collected_when_present() -> None:
    """If README.md has a ```python fence, the parametrization holds a runnable example for it."""
    readme = REPO / "README.md"
    fences = len(re.findall(r"^```python", readme.read_text(), re.M)) if readme.exists() else 0
    collected = [p for p in examples() if p.values[0] == readme]
    assert len(collected) == fences


def test_failing_example_fails() -> None:
    """A broken example raises out of the engine, so the parametrized test above would fail."""
    compiled = compile("from components.kms import KmsKeys\nKmsKeys('k', None, project='p')\n",
                       "example", "exec")
    with pytest.raises(AttributeError):
        run_program(lambda: exec(compiled, {"__name__": "__main__"}), project="aidc",
                    stack="docs", config=DEV_CONFIG)


# ---------------------------------------------------------------------------------------------
# examples people copy pass the policy pack (STYLE: "our examples pass our own policy pack")


@pytest.mark.parametrize(("path", "line", "code"), examples())
def test_docs_example_passes_aidc_check(path: Path, line: int, code: str,
                                        tmp_path: Path) -> None:
    """Each example, planned as a project of its own with a stack file that sets no policy
    settings (the pack's defaults: critical and high block), passes `aidc check` (exit 0)."""
    from tests.helpers import run_aidc, write_stack

    program = tmp_path / "example"
    program.mkdir()
    (program / "__main__.py").write_text(code)
    (program / "Pulumi.yaml").write_text("name: docs-example\nruntime: python\n")
    write_stack(program, {"gcp:project": "acme-ai-dev", "gcp:region": "us-central1"}, "docs")
    result = run_aidc("check", "--program", program, "docs")
    assert result.returncode == 0, f"{path}:{line}\n{result.stdout[-4000:]}{result.stderr}"
    assert "PASS" in result.stdout


# ---------------------------------------------------------------------------------------------
# the JobSet a team submits (README, "Submitting a JobSet")


def readme_jobsets() -> list[dict]:
    import yaml

    readme = (REPO / "README.md").read_text()
    docs = [yaml.safe_load(code) for _, code in fenced_blocks(readme, ("yaml",))]
    return [d for d in docs if isinstance(d, dict) and d.get("kind") == "JobSet"]


def test_readme_jobset_is_valid_and_targets_a_team_queue() -> None:
    """The README's JobSet is valid for the pinned JobSet CRD and its jobs for Kubernetes
    (kubernetes-validate, strict); it is in a team namespace of the staging stack, names that
    team's LocalQueue and a priority class the stack declares, runs as the team's Workload
    Identity service account and asks for whole GPU nodes."""
    from components.monitoring.k8s import validate_objects
    from components.tenancy.objects import LOCAL_QUEUE, PRIORITY_CLASSES, TENANT_KSA
    from infra.catalog.crds.jobset import embedded_objects
    from infra.catalog.crds.validate import validate_crd_object
    from infra.config.load import load_stack_file

    (jobset,) = readme_jobsets()
    validate_crd_object(jobset)
    jobs = embedded_objects(jobset)
    validate_objects(jobs)
    cfg = load_stack_file(STACKS_DIR / "Pulumi.staging.yaml")
    namespaces = {t.namespace_of(n) for n, t in cfg.tenants.items()}
    labels = jobset["metadata"]["labels"]
    assert jobset["metadata"]["namespace"] in namespaces
    assert labels["kueue.x-k8s.io/queue-name"] == LOCAL_QUEUE
    assert labels["kueue.x-k8s.io/priority-class"] in PRIORITY_CLASSES
    gpus_per_node = cfg.gpu_pools["a100"].resolved().accelerator_count
    for job in jobs:
        pod = job["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == TENANT_KSA
        for container in pod["containers"]:
            assert container["resources"]["limits"]["nvidia.com/gpu"] == gpus_per_node


def test_readme_jobset_pods_pass_the_policy_pack() -> None:
    """Our examples pass our own pack: each job of the README's JobSet, as a batch/v1 Job, has
    no violation of any policy, advisory ones included."""
    from infra.check.run import PolicyAnalyzer
    from infra.engine.plan import Plan, PlanResource
    from infra.catalog.crds.jobset import embedded_objects

    (jobset,) = readme_jobsets()
    jobs = [PlanResource(urn=f"urn:pulumi:docs::aidc::kubernetes:batch/v1:Job::{j['metadata']['name']}",
                         type="kubernetes:batch/v1:Job", name=j["metadata"]["name"], inputs=j)
            for j in embedded_objects(jobset)]
    with PolicyAnalyzer(project="aidc", stack="docs") as analyzer:
        result = analyzer.check(Plan(project="aidc", stack="docs", resources=jobs))
    assert result.violations == [] and result.diagnostics == []
