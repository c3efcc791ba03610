"""The pack process: started as the engine starts it, and always stopped, whatever happens.
Small throwaway packs exercise the failure paths."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from infra.check.pack import pack_environment
from infra.check.run import PolicyAnalyzer
from infra.errors import AidcError
from policies.protocol import SPEEDUPS_ENV
from tests.check.packs import ALWAYS as ALWAYS_SRC
from tests.check.packs import write_pack


def test_rejects_pack_whose_main_raises(tmp_path, spawned) -> None:
    """A pack that fails to start is an AidcError naming the pack and quoting its stderr; the
    process is gone."""
    pack = write_pack(tmp_path, "raise RuntimeError('boom: missing dependency')\n")
    with pytest.raises(AidcError) as err:
        PolicyAnalyzer(pack).start()
    assert str(pack) in str(err.value) and "boom: missing dependency" in str(err.value)
    assert spawned and all(p.poll() is not None for p in spawned)


def test_rejects_pack_that_prints_garbage_and_stops_it(tmp_path, spawned) -> None:
    """Output other than a port is an error, and the still-running pack is terminated."""
    pack = write_pack(tmp_path, "import time\nprint('hello world', flush=True)\ntime.sleep(600)\n")
    with pytest.raises(AidcError, match="printed 'hello world' instead of its gRPC port"):
        PolicyAnalyzer(pack).start()
    assert spawned and all(p.poll() is not None for p in spawned)


def test_rejects_pack_that_never_prints_its_port(tmp_path, spawned) -> None:
    """A pack that hangs is given up on after the start timeout, and terminated."""
    pack = write_pack(tmp_path, "import sys, time\nprint('loading', file=sys.stderr, flush=True)\n"
                                "time.sleep(600)\n")
    with pytest.raises(AidcError, match="(?s)did not print its port within 3s.*loading"):
        # 3s: importing pulumi_policy before our __main__ runs takes over 1s on a busy machine
        PolicyAnalyzer(pack, start_timeout=3).start()
    assert spawned and all(p.poll() is not None for p in spawned)


def test_rejects_directory_that_is_not_a_pack(tmp_path) -> None:
    """Without PulumiPolicy.yaml there is no pack to start (as with `pulumi preview`)."""
    with pytest.raises(AidcError, match="PulumiPolicy.yaml"):
        PolicyAnalyzer(tmp_path).start()
    with pytest.raises(AidcError, match="no such directory"):
        PolicyAnalyzer(tmp_path / "missing").start()


def test_stops_the_pack_on_keyboard_interrupt(spawned) -> None:
    """Ctrl-C inside a check still stops the pack process."""
    with pytest.raises(KeyboardInterrupt):
        with PolicyAnalyzer():
            raise KeyboardInterrupt
    assert len(spawned) == 1 and spawned[0].poll() is not None


def test_pack_environment_is_the_engines_plus_the_speedup_opt_in() -> None:
    """The pack sees a preview's environment; the speed-ups are asked for explicitly, and
    `speedups=False` takes the request away even if the caller's environment carries it."""
    env = pack_environment({"PATH": "/bin", SPEEDUPS_ENV: "1"}, project="aidc", stack="dev",
                           stack_config={"aidc:x": "1"}, speedups=False)
    assert env == {"PATH": "/bin", "PULUMI_DRY_RUN": "true", "PULUMI_PROJECT": "aidc",
                   "PULUMI_STACK": "dev", "PULUMI_CONFIG": '{"aidc:x": "1"}'}
    assert pack_environment({}, speedups=True) == {"PULUMI_DRY_RUN": "true", SPEEDUPS_ENV: "1"}


def test_pack_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A parent killed outright (SIGKILL: no cleanup runs) does not leave the pack serving."""
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        from infra.check.run import PolicyAnalyzer
        analyzer = PolicyAnalyzer()
        analyzer.start()
        print(analyzer.pid, flush=True)
        time.sleep(600)
    """))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pack_pid = int(parent.stdout.readline())
        os.kill(pack_pid, 0)  # the pack is running
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pack_pid):
            time.sleep(0.1)
        if _alive(pack_pid):
            os.kill(pack_pid, signal.SIGKILL)
            raise AssertionError("the pack outlived its killed parent")
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    """Running, i.e. neither gone nor a zombie waiting for whoever inherited it."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


HANGS_IN_ANALYZE = textwrap.dedent('''
    import time
    from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

    def hang(args, report_violation):
        time.sleep(600)

    PolicyPack(name="hangs", enforcement_level=EnforcementLevel.MANDATORY, policies=[
        ResourceValidationPolicy(name="hang", description="Never answers.", validate=hang)])
''')


def test_a_pack_that_never_answers_is_given_up_on(tmp_path, spawned, monkeypatch) -> None:
    """Each call has a deadline ($AIDC_PACK_TIMEOUT): a hung Analyze is an AidcError naming the
    call and the limit, in about that time, and the pack is stopped."""
    from tests.policy_fixtures import plan_of, resource

    monkeypatch.setenv("AIDC_PACK_TIMEOUT", "4")
    pack = write_pack(tmp_path, HANGS_IN_ANALYZE)
    plan = plan_of(resource("gcp:storage/bucket:Bucket", "b", {}))
    started = time.monotonic()
    with pytest.raises(AidcError, match="no answer within 4 s"):
        with PolicyAnalyzer(pack, speedups=False) as analyzer:
            analyzer.check(plan)
    assert time.monotonic() - started < 30
    assert spawned and all(p.poll() is not None for p in spawned)


def test_a_child_of_the_pack_holding_its_output_is_stopped_with_it(tmp_path, spawned) -> None:
    """A pack that starts a process inheriting its stdout (which would keep our pipe open and
    outlive the check) is stopped with its whole process group, promptly."""
    marker = tmp_path / "child.pid"
    pack = write_pack(tmp_path, textwrap.dedent(f'''
        import subprocess, sys
        child = subprocess.Popen(["sleep", "600"])  # inherits stdout and stderr
        open({str(marker)!r}, "w").write(str(child.pid))
    ''') + ALWAYS_SRC)
    with PolicyAnalyzer(pack, speedups=False) as analyzer:
        analyzer.start()
    started = time.monotonic()
    # closed by the context manager above; the child must be gone too
    child = int(marker.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the pack's child outlived the check")
    assert time.monotonic() - started < 10
