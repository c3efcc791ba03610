"""`pulumi.StackReference` offline, through the real CLI, on small programs of a throwaway
repository: a reference reads the referenced program's planned outputs; a stack, project or
output that does not exist, or a cycle, is exit 2 naming it; `--ref NAME=PLAN.json` stands in
for planning; a Plan JSON records the stack's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import REPO, run_aidc

PRODUCER = '''
import pulumi, pulumi_gcp as gcp
bucket = gcp.storage.Bucket("data", location="US", project="p", uniform_bucket_level_access=True)
pulumi.export("bucket", bucket.name)
pulumi.export("replicas", 3)
'''
CONSUMER = '''
import pulumi, pulumi_gcp as gcp
config = pulumi.Config()
ref = pulumi.StackReference("producer", stack_name=config.require("ref"))
read = ref.require_output if config.get_bool("require") else ref.get_output
gcp.storage.BucketIAMMember("reader", bucket=read(config.get("output") or "bucket"),
                            role="roles/storage.objectViewer", member="group:ml@acme.example")
pulumi.export("replicas", ref.get_output("replicas"))
'''


def project(root: Path, directory: str, name: str, program: str,
            stacks: dict[str, dict[str, object]]) -> Path:
    here = root / directory
    here.mkdir(parents=True)
    (here / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (here / "__main__.py").write_text(program)
    for stack, config in stacks.items():
        (here / f"Pulumi.{stack}.yaml").write_text(json.dumps({"config": {"gcp:project": "p",
                                                                          **config}}))
    return here


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository (a .git directory marks its root) with a producer and a consumer program
    whose stacks reference the producer in every accepted form, and some that fail."""
    root = tmp_path_factory.mktemp("repo")
    (root / ".git").mkdir()
    project(root, "producer", "producer", PRODUCER, {"dev": {}})
    project(root, "apps/consumer", "consumer", CONSUMER, {
        "full": {"consumer:ref": "organization/producer/dev"},
        "short": {"consumer:ref": "producer/dev"},
        "nooutput": {"consumer:ref": "producer/dev", "consumer:output": "bucket_name"},
        "norequired": {"consumer:ref": "producer/dev", "consumer:output": "bucket_name",
                       "consumer:require": True},
        "nostack": {"consumer:ref": "producer/qa"},
        "noproject": {"consumer:ref": "organization/nowhere/dev"},
        "self": {"consumer:ref": "self"},  # a bare name: this project's stack `self`
        "bad": {"consumer:ref": "a/b/c/d"},
    })
    return root


def consumer_plan(repo: Path, stack: str, *extra: str | Path) -> tuple[int, str, dict]:
    out = repo / f"{stack}.json"
    result = run_aidc("plan", "--program", repo / "apps" / "consumer", stack, "--json", out,
                      *extra, cwd=repo)
    plan = json.loads(out.read_text()) if result.returncode == 0 else {}
    return result.returncode, result.stderr, plan


@pytest.mark.parametrize("stack", ["full", "short"])
def test_reference_reads_the_referenced_programs_planned_outputs(repo: Path, stack: str) -> None:
    code, err, plan = consumer_plan(repo, stack)
    assert code == 0, err
    reader = next(r for r in plan["resources"] if r["name"] == "reader")
    assert reader["inputs"]["bucket"] == "data"  # the producer's bucket, as the mocks name it
    assert plan["outputs"] == {"replicas": 3}
    ref = next(r for r in plan["resources"] if r["type"] == "pulumi:pulumi:StackReference")
    assert ref["urn"] in reader["dependencies"]


@pytest.mark.parametrize("stack", ["nooutput", "norequired"])
def test_rejects_an_output_the_stack_does_not_export(repo: Path, stack: str) -> None:
    """get_output (None in real Pulumi) and require_output alike: exit 2, the output named."""
    code, err, _ = consumer_plan(repo, stack)
    assert code == 2
    assert "stack reference producer/dev: the stack exports no output 'bucket_name'" in err
    assert "it exports: bucket, replicas" in err
    assert "Traceback" not in err


def test_rejects_a_stack_the_project_does_not_have(repo: Path) -> None:
    code, err, _ = consumer_plan(repo, "nostack")
    assert code == 2
    assert "stack reference producer/qa" in err and "has no stack 'qa' (its stacks: dev)" in err


def test_rejects_a_project_the_repository_does_not_have(repo: Path) -> None:
    code, err, _ = consumer_plan(repo, "noproject")
    assert code == 2
    assert "no Pulumi project named 'nowhere'" in err and "consumer, producer" in err
    assert "--ref nowhere/dev=PLAN.json" in err


def test_rejects_a_cycle_of_references(repo: Path) -> None:
    """A bare name is a stack of the current project; `self` references itself."""
    code, err, _ = consumer_plan(repo, "self")
    assert code == 2
    assert "stack references form a cycle: consumer/self -> consumer/self" in err


def test_rejects_a_malformed_name(repo: Path) -> None:
    code, err, _ = consumer_plan(repo, "bad")
    assert code == 2 and "stack reference 'a/b/c/d': expected organization/<project>/" in err


def test_ref_stands_in_for_planning_the_referenced_stack(repo: Path, tmp_path: Path) -> None:
    saved = tmp_path / "producer.json"
    result = run_aidc("plan", "--program", repo / "producer", "dev", "--json", saved, cwd=repo)
    assert result.returncode == 0, result.stderr
    outputs = json.loads(saved.read_text())["outputs"]
    assert outputs == {"bucket": "data", "replicas": 3}
    edited = json.loads(saved.read_text())
    edited["outputs"]["bucket"] = "from-the-saved-plan"
    saved.write_text(json.dumps(edited))
    code, err, plan = consumer_plan(repo, "full", "--ref", f"producer/dev={saved}")
    assert code == 0, err
    reader = next(r for r in plan["resources"] if r["name"] == "reader")
    assert reader["inputs"]["bucket"] == "from-the-saved-plan"


def test_ref_resolves_from_a_program_outside_the_repository(repo: Path, tmp_path: Path) -> None:
    """Outside the repository aidc runs in, only --ref (or the repository's programs) resolve."""
    saved = tmp_path / "producer.json"
    assert run_aidc("plan", "--program", repo / "producer", "dev", "--json", saved,
                    cwd=repo).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, err, _ = consumer_plan(repo, "short", "--ref", f"organization/producer/dev={saved}")
    assert code == 0, err
    result = run_aidc("plan", "--program", repo / "apps" / "consumer", "short", cwd=elsewhere)
    assert result.returncode == 2 and "no Pulumi project named 'producer'" in result.stderr
    result = run_aidc("plan", "--program", repo / "apps" / "consumer", "short",
                      "--ref", f"producer/dev={saved}", cwd=elsewhere)
    assert result.returncode == 0, result.stderr


def test_rejects_a_ref_plan_without_outputs_or_of_another_stack(repo: Path,
                                                                tmp_path: Path) -> None:
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps({"project": "producer", "stack": "dev", "resources": []}))
    code, err, _ = consumer_plan(repo, "full", "--ref", f"producer/dev={saved}")
    assert code == 2 and "records no stack outputs" in err
    saved.write_text(json.dumps({"project": "producer", "stack": "prod", "resources": [],
                                 "outputs": {}}))
    code, err, _ = consumer_plan(repo, "full", "--ref", f"producer/dev={saved}")
    assert code == 2 and "is the plan of producer/prod, not of the referenced stack" in err


@pytest.mark.parametrize("value,message", [
    ("producer/dev", "expected NAME=PLAN.json"),
    ("producer/dev=missing.json", "no file missing.json"),
])
def test_rejects_a_malformed_ref(repo: Path, value: str, message: str) -> None:
    code, err, _ = consumer_plan(repo, "full", "--ref", value)
    assert code == 2 and message in err


def test_check_judges_a_program_with_references(repo: Path) -> None:
    result = run_aidc("check", "--program", repo / "apps" / "consumer", "full", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_aidc("check", "--program", repo / "apps" / "consumer", "nooutput", cwd=repo)
    assert result.returncode == 2 and "no output 'bucket_name'" in result.stderr
