"""The offline engine: what run_program records, the Plan's JSON contract, diffs, mocks, planner."""

from __future__ import annotations

import gc
import json
import threading
from pathlib import Path

import pulumi
import pulumi_gcp as gcp
import pytest

from infra.engine import runner
from infra.engine.diff import changed_paths, diff_plans
from infra.engine.mocks import AidcMocks, project_number
from infra.engine.plan import (
    SECRET_PLACEHOLDER,
    STACK_TYPE,
    UNKNOWN_PLACEHOLDER,
    Plan,
    PlanResource,
)
from infra.plan import plan_stack, resolve_stack, stack_name_of
from infra.errors import AidcError
from tests.helpers import (
    BASE_STACK,
    PROJECT,
    by_name,
    plan_of,
    write_stack,
)

PLAN_KEYS = {"urn", "type", "name", "parent", "dependencies", "provider", "component", "inputs"}


class Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Box", name, None, opts)
        self.register_outputs({})


def nested_program() -> None:
    """outer (component) > inner (component) > svc (custom), plus a root-level custom."""
    outer = Box("outer")
    inner = Box("inner", pulumi.ResourceOptions(parent=outer))
    svc = gcp.projects.Service("svc", service="compute.googleapis.com", project=PROJECT,
                               opts=pulumi.ResourceOptions(parent=inner, protect=True))
    gcp.projects.Service("after", service="file.googleapis.com", project=PROJECT,
                         opts=pulumi.ResourceOptions(depends_on=[svc]))


# ---------------------------------------------------------------------------------------------
# run_program


def test_records_urns_as_the_engine_builds_them() -> None:
    """URNs carry the whole chain of parent types (no stack prefix for root children), so they
    match what a real `pulumi preview` produces."""
    plan = plan_of(nested_program, stack="dev", project="aidc")
    assert by_name(plan, "aidc-dev").urn == "urn:pulumi:dev::aidc::pulumi:pulumi:Stack::aidc-dev"
    assert by_name(plan, "outer").urn == "urn:pulumi:dev::aidc::test:index:Box::outer"
    assert by_name(plan, "inner").urn == "urn:pulumi:dev::aidc::test:index:Box$test:index:Box::inner"
    assert by_name(plan, "svc").urn == ("urn:pulumi:dev::aidc::test:index:Box$test:index:Box$"
                                        "gcp:projects/service:Service::svc")
    assert by_name(plan, "after").urn == "urn:pulumi:dev::aidc::gcp:projects/service:Service::after"


def test_records_graph_and_flags() -> None:
    """Each record has its parent, dependencies, protect and custom flags and its nearest
    enclosing component (never the stack, never a custom resource)."""
    plan = plan_of(nested_program)
    stack, outer, inner = by_name(plan, "aidc-test"), by_name(plan, "outer"), by_name(plan, "inner")
    svc, after = by_name(plan, "svc"), by_name(plan, "after")
    assert plan.resources[0] is stack and stack.type == STACK_TYPE
    assert (outer.parent, inner.parent, svc.parent) == (stack.urn, outer.urn, inner.urn)
    assert (svc.component, inner.component, outer.component) == (inner.urn, outer.urn, None)
    assert after.component is None
    assert after.dependencies == [svc.urn]
    assert (svc.protect, after.protect) == (True, False)
    assert (svc.custom, inner.custom, stack.custom) == (True, False, False)
    assert svc.inputs == {"service": "compute.googleapis.com", "project": PROJECT}


def test_inputs_are_camel_case_as_the_provider_sees_them() -> None:
    """Inputs carry the engine's property names (camelCase), nested args included."""
    plan = plan_of(lambda: gcp.storage.Bucket(
        "b", location="US", uniform_bucket_level_access=True,
        soft_delete_policy=gcp.storage.BucketSoftDeletePolicyArgs(retention_duration_seconds=0)))
    assert by_name(plan, "b").inputs == {
        "location": "US", "uniformBucketLevelAccess": True,
        "softDeletePolicy": {"retentionDurationSeconds": 0}}


def test_secrets_never_reach_the_plan() -> None:
    """A secret config value and a secret Output both appear as the placeholder, in clear
    nowhere in the Plan JSON."""
    def program() -> None:
        config = pulumi.Config("aidc")
        gcp.projects.Service("from-config", service=config.require_secret("token"))
        gcp.projects.Service("from-output", service=pulumi.Output.secret("hunter2-output"))

    plan = plan_of(program, config={"gcp:project": PROJECT, "aidc:token": "hunter2-config"},
                   secret_keys=["aidc:token"])
    assert by_name(plan, "from-config").inputs["service"] == SECRET_PLACEHOLDER
    assert by_name(plan, "from-output").inputs["service"] == SECRET_PLACEHOLDER
    assert "hunter2" not in plan.to_json()


def test_config_reaches_the_program_as_the_engine_sets_it() -> None:
    """Config is handed over as strings: structured values as JSON, booleans as true/false."""
    seen = {}

    def program() -> None:
        config = pulumi.Config("aidc")
        seen["obj"] = config.require_object("network")
        seen["flag"] = config.require_bool("flag")
        seen["raw"] = config.require("network")

    plan_of(program, config={"gcp:project": PROJECT, "aidc:network": {"max_nodes": 3},
                             "aidc:flag": True})
    assert seen == {"obj": {"max_nodes": 3}, "flag": True, "raw": '{"max_nodes": 3}'}


def test_program_errors_propagate_unchanged() -> None:
    """An error raised by the program reaches the caller as itself (config errors stay
    AidcError, so the CLI can print them without a traceback)."""
    def program() -> None:
        raise AidcError("aidc:network.max_nodes: nope")

    with pytest.raises(AidcError, match="max_nodes: nope"):
        plan_of(program)


def _platform_program() -> None:
    from infra.config.load import config_from_flat
    from infra.platform import Platform

    Platform(config_from_flat(BASE_STACK))


def _canonical(plan: Plan) -> dict:
    """The plan with reference lists as sets (their order is pinned separately, below)."""
    raw = plan.as_dict()
    for res in raw["resources"]:
        res["dependencies"] = sorted(res["dependencies"])
        res["propertyDependencies"] = {k: sorted(v) for k, v in res["propertyDependencies"].items()}
    return raw


def test_plans_are_deterministic() -> None:
    """Two runs of the same program give the same resources, inputs and references, whatever
    resolves first."""
    first = plan_of(_platform_program, config=BASE_STACK, stack="dev")
    second = plan_of(_platform_program, config=BASE_STACK, stack="dev")
    assert _canonical(first) == _canonical(second)


def test_plan_reference_lists_are_sorted() -> None:
    """Dependency lists are in a canonical (sorted) order, so plan JSON is byte-stable across
    runs and machines (plans are CI artifacts and get diffed as text)."""
    plan = plan_of(_platform_program, config=BASE_STACK, stack="dev")
    for res in plan.resources:
        assert res.dependencies == sorted(res.dependencies), res.name
        for prop, urns in res.property_dependencies.items():
            assert urns == sorted(urns), f"{res.name}.{prop}"


def test_run_leaves_no_worker_threads() -> None:
    """After a run, the mock monitor's executor threads (each with its own event loop) are
    joined, so nothing is left to be torn down noisily at interpreter exit."""
    for _ in range(5):
        plan_of(nested_program)
        assert not [t for t in threading.enumerate() if t.name.startswith("asyncio_")]


def test_run_closes_every_event_loop_it_creates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every event loop created during a run (the runner's and the monitor threads') is closed
    when run_program returns, so none is left to the garbage collector."""
    import asyncio

    created: list[asyncio.AbstractEventLoop] = []
    real = asyncio.new_event_loop

    def recording() -> asyncio.AbstractEventLoop:
        created.append(real())
        return created[-1]

    monkeypatch.setattr(asyncio, "new_event_loop", recording)
    plan_of(nested_program)
    assert len(created) > 1
    assert [loop.is_closed() for loop in created] == [True] * len(created)


def test_rejects_duplicate_urn() -> None:
    """Two resources with the same type and name under the same parent are refused."""
    def program() -> None:
        gcp.projects.Service("twice", service="a.googleapis.com")
        gcp.projects.Service("twice", service="b.googleapis.com")

    with pytest.raises(Exception, match="(?i)duplicate"):
        plan_of(program)


def test_failed_run_leaves_nothing_to_the_next() -> None:
    """A run that fails mid-registration leaves failed Outputs behind in the SDK; the next run
    in the same process (the test suite, a notebook) still plans cleanly."""
    def failing() -> None:
        gcp.projects.Service("twice", service="a.googleapis.com")
        gcp.projects.Service("twice", service="b.googleapis.com")

    with pytest.raises(Exception, match="(?i)duplicate"):
        plan_of(failing)
    assert len(plan_of(nested_program).resources) > 1


def test_collector_paused_only_for_the_run() -> None:
    """The engine pauses the cyclic garbage collector while a program runs, and hands it back
    as it found it, whether the run succeeds or fails."""
    seen: list[bool] = []

    def program() -> None:
        seen.append(gc.isenabled())
        gcp.projects.Service("svc", service="a.googleapis.com")

    plan_of(program)
    assert seen == [False] and gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        plan_of(lambda: 1 / 0)
    assert gc.isenabled()
    gc.disable()
    try:
        plan_of(program)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(("wire", "plain"), [
    ({runner._SIG: runner._SECRET, "value": "x"}, SECRET_PLACEHOLDER),
    ({runner._SIG: runner._RESOURCE, "urn": "urn:pulumi:a::b::t::n"}, "urn:pulumi:a::b::t::n"),
    ({runner._SIG: runner._OUTPUT, "value": "v"}, "v"),
    ({runner._SIG: runner._OUTPUT, "value": "v", "secret": True}, SECRET_PLACEHOLDER),
    ({runner._SIG: runner._OUTPUT}, UNKNOWN_PLACEHOLDER),
    (runner.rpc.UNKNOWN, UNKNOWN_PLACEHOLDER),
    ({"a": [1.0, 2.5, {"b": 3.0}]}, {"a": [1, 2.5, {"b": 3}]}),
])
def test_wire_values_become_plain_json(wire: object, plain: object) -> None:
    """Secrets and unknowns become placeholders, resource references their URN, and whole
    floats ints (the wire carries every number as a double)."""
    assert runner._plain(wire) == plain


# ---------------------------------------------------------------------------------------------
# the Plan JSON contract


def test_plan_json_shape_and_round_trip(tmp_path: Path) -> None:
    """The JSON has project, stack and resources with every contract key; it reads back equal;
    it is written whole (no temporary file left behind)."""
    plan = plan_of(nested_program)
    path = tmp_path / "plan.json"
    plan.write(path)
    raw = json.loads(path.read_text())
    assert {"project", "stack", "resources"} <= set(raw)
    assert all(PLAN_KEYS <= set(r) for r in raw["resources"])
    assert Plan.read(path).as_dict() == plan.as_dict()
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_plan_from_foreign_json_infers_components() -> None:
    """A plan written by another tool may omit `custom`: aidc and stack types are components."""
    plan = Plan.from_dict({"project": "p", "stack": "s", "resources": [
        {"urn": "u1", "type": "aidc:kms:KmsKeys", "name": "kms"},
        {"urn": "u2", "type": "gcp:kms/keyRing:KeyRing", "name": "ring"}]})
    assert [r.custom for r in plan.resources] == [False, True]


@pytest.mark.parametrize(("text", "needle"), [
    ("{not json", "not valid JSON at line 1"),
    ("[]", "plan: expected object, got list"),
    ('{"resources": {}}', "plan.resources: expected array, got dict"),
    ('{"resources": [{"type": "t"}]}', "plan.resources[0]: 'urn' is required"),
    ('{"resources": [{"urn": "u", "type": "t", "name": "n", "inputs": [1]}]}',
     "plan.resources[0].inputs: expected object, got list"),
    ('{"resources": [{"urn": "u", "type": "t", "name": "n", "dependencies": [1]}]}',
     "plan.resources[0].dependencies[0]: expected string, got int"),
    ('{"resources": [], "x": ' + "9" * 400 + "}", "is out of range"),
    ('{"resources": [], "x": 1e400}', "is out of range"),
    ('{"resources": [], "x": NaN}', "NaN is not a JSON number"),
    ('{"resources": [], "x": ' + "[" * 100 + "]" * 100 + "}", "nested deeper than 64 levels"),
])
def test_rejects_malformed_plan_file(tmp_path: Path, text: str, needle: str) -> None:
    """A plan file that is not a Plan names the file and what is wrong where."""
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(AidcError, match=str(path).replace(".", r"\.")) as err:
        Plan.read(path)
    assert needle in str(err.value)


def test_rejects_missing_plan_file(tmp_path: Path) -> None:
    """An unreadable plan file is named with the reason."""
    with pytest.raises(AidcError, match="cannot read plan file"):
        Plan.read(tmp_path / "none.json")


# ---------------------------------------------------------------------------------------------
# diffs


def _res(urn: str, **inputs: object) -> PlanResource:
    return PlanResource(urn=urn, type="gcp:x:Y", name=urn.rsplit("::", 1)[-1], inputs=dict(inputs))


def test_changed_paths() -> None:
    """Changed inputs are reported as dotted paths, list items by index, added/removed keys."""
    old = {"a": 1, "b": {"c": [1, 2], "d": "x"}, "gone": 1}
    new = {"a": 1, "b": {"c": [1, 3], "d": "y"}, "new": 1}
    assert changed_paths(old, new) == ["b.c[1]", "b.d", "gone", "new"]
    assert changed_paths([1], [1, 2]) == ["(value)"]
    assert changed_paths(old, old) == []


def test_diff_added_removed_changed() -> None:
    """Resources are matched by URN: new ones added, missing ones removed, others compared."""
    base = Plan("p", "s", [_res("urn:pulumi:s::p::t::keep", x=1), _res("urn:pulumi:s::p::t::old")])
    target = Plan("p", "s", [_res("urn:pulumi:s::p::t::keep", x=2), _res("urn:pulumi:s::p::t::new")])
    diff = diff_plans(base, target)
    assert [a[2] for a in diff.added] == ["new"]
    assert [r[2] for r in diff.removed] == ["old"]
    assert [(c.name, c.paths) for c in diff.changed] == [("keep", ["x"])]
    assert not diff.empty
    assert diff_plans(base, base).empty


def test_diff_across_stacks_matches_by_type_and_name() -> None:
    """Two stacks' URNs differ in the stack part only; resources still match."""
    base = Plan("p", "a", [_res("urn:pulumi:a::p::t::keep", x=1)])
    target = Plan("p", "b", [_res("urn:pulumi:b::p::t::keep", x=1)])
    assert diff_plans(base, target).empty


def test_diff_of_same_program_across_stacks_is_empty() -> None:
    """The same program planned as two stacks diffs empty: the stacks' roots are the same node."""
    base = plan_of(nested_program, stack="dev")
    target = plan_of(nested_program, stack="staging")
    diff = diff_plans(base, target)
    assert (diff.added, diff.removed, diff.changed) == ([], [], [])


# ---------------------------------------------------------------------------------------------
# mocks


def test_project_number_is_stable_and_distinct() -> None:
    """A 12-digit stand-in, the same for a project every time, different between projects."""
    assert project_number("acme-ai-dev") == project_number("acme-ai-dev")
    assert project_number("acme-ai-dev") != project_number("acme-ai-prod")
    assert len(project_number("x")) == 12 and project_number("x").isdigit()


def test_mocks_answer_invokes_and_note_unknown_ones() -> None:
    """getProject returns the derived number; an invoke with no handler echoes its args and is
    recorded, so a test can see what the mocks did not know."""
    mocks = AidcMocks(project="acme-ai-dev", region="us-central1")
    result = mocks.call(pulumi.runtime.MockCallArgs(
        token="gcp:organizations/getProject:getProject", args={}, provider=""))
    assert result["number"] == project_number("acme-ai-dev")
    echoed = mocks.call(pulumi.runtime.MockCallArgs(token="gcp:x/y:z", args={"a": 1}, provider=""))
    assert echoed == {"a": 1}
    assert mocks.unknown_invokes == {"gcp:x/y:z"}


def test_mocks_give_resources_ids_and_state() -> None:
    """A resource's state is its inputs plus computed outputs, and gcp resources get the
    project; an unknown type still gets an id."""
    mocks = AidcMocks(project="acme-ai-dev", region="us-central1")
    rid, state = mocks.new_resource(pulumi.runtime.MockResourceArgs(
        typ="gcp:storage/bucket:Bucket", name="b", inputs={"name": "acme-b"}, provider="",
        resource_id=""))
    assert rid == "acme-b"
    assert state["url"] == "gs://acme-b" and state["project"] == "acme-ai-dev"
    rid, state = mocks.new_resource(pulumi.runtime.MockResourceArgs(
        typ="gcp:foo/bar:Baz", name="z", inputs={}, provider="", resource_id=""))
    assert rid == "acme-ai-dev/z"


# ---------------------------------------------------------------------------------------------
# planner


@pytest.mark.parametrize(("file", "stack"), [("Pulumi.dev.yaml", "dev"),
                                             ("Pulumi.team-a.yml", "team-a"),
                                             ("mystack.yaml", "mystack")])
def test_stack_name_of(file: str, stack: str) -> None:
    """A stack file's stack name comes from `Pulumi.<stack>.yaml`, else the file's stem."""
    assert stack_name_of(Path(file)) == stack


def test_rejects_neither_stack_nor_file() -> None:
    """Planning needs a stack name or a stack file, and says so."""
    with pytest.raises(AidcError, match="give a STACK name"):
        resolve_stack(None, None)


def test_plan_stack_validates_before_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config error stops planning before the program runs: nothing is half built."""
    from infra import plan as planner

    program = tmp_path / "program"
    program.mkdir()
    marker = tmp_path / "ran"
    (program / "__main__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.setattr(planner, "STACKS_DIR", program)  # make it count as aidc's own program
    bad = write_stack(tmp_path, {**BASE_STACK, "aidc:netwrk": {}}, name="bad")
    with pytest.raises(AidcError, match="aidc:netwrk: unknown key"):
        plan_stack("bad", bad, program_dir=program)
    assert not marker.exists()


def test_plan_stack_plans_the_platform(tmp_path: Path) -> None:
    """A valid stack file plans through stacks/ with its own stack name."""
    plan = plan_stack("test", write_stack(tmp_path, BASE_STACK))
    assert plan.stack == "test"
    assert by_name(plan, "data-datasets").type == "gcp:storage/bucket:Bucket"
