"""Plan a stack offline: validate its config, then run the stack program under mocks."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infra.config.load import (
    STACKS_DIR,
    config_from_flat,
    read_stack_file,
    stack_file,
    unset_secret_paths,
)
from infra.config.policy import policy_settings_of
from infra.engine.plan import (
    Plan,
    PlanResource,
    SourceLocation,
    repo_relative,
    repository_root,
)
from infra.errors import AidcError
from infra.files import MAX_STACK_FILE_BYTES, KeyPath, load_yaml, read_text
from infra.engine.isolate import ask, run_isolated, timeout_seconds
from infra.engine.references import MissingReference, Resolver, StackName, parse_stack_name
from infra.engine.runner import program_from_dir, run_program

PROJECT_FILE = STACKS_DIR.parent / "Pulumi.yaml"
PROJECT_FILE_NAMES = ("Pulumi.yaml", "Pulumi.yml")


@dataclass(frozen=True)
class Project:
    """A Pulumi project as its `Pulumi.yaml` declares it: the name (also the namespace of its
    config keys and the project part of every URN), the program directory (`main`) and where
    its stack files live (`stackConfigDir`)."""

    name: str
    file: Path
    program_dir: Path
    stack_dir: Path


def _read_project(path: Path) -> Project:
    doc = load_yaml(read_text(path, "Pulumi project file", max_bytes=MAX_STACK_FILE_BYTES),
                    str(path))
    name = doc.get("name") if isinstance(doc, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise AidcError(f"{path}: a Pulumi project file needs a `name:`")
    root = path.parent.resolve()

    def directory(key: str) -> Path:
        value = doc.get(key)
        if value is None:
            return root
        if not isinstance(value, str):
            raise AidcError(f"{path}: `{key}:` is a directory path, got {value!r}")
        return (root / value).resolve()

    return Project(name=name.strip(), file=path, program_dir=directory("main"),
                   stack_dir=directory("stackConfigDir"))


def find_project(program: Path | None = None) -> Project:
    """The project of a program directory: the `Pulumi.yaml` in it, or the nearest above it
    whose `main:` is that directory (as the repository's own `Pulumi.yaml` names `stacks/`).
    None: aidc's own project."""
    if program is None:
        return _read_project(PROJECT_FILE)
    here = program.resolve()
    for name in PROJECT_FILE_NAMES:
        if (here / name).is_file():
            return _read_project(here / name)
    for parent in here.parents:
        for name in PROJECT_FILE_NAMES:
            if (parent / name).is_file():
                project = _read_project(parent / name)
                if project.program_dir == here:
                    return project
    raise AidcError(f"--program {program}: no Pulumi.yaml there (or above it with `main:` "
                    "naming it); a Pulumi project names itself in Pulumi.yaml (`name: "
                    "my-project`, `runtime: python`), which also sets its config namespace")


def project_name() -> str:
    """The name of aidc's own Pulumi project; it is also the config namespace of its keys."""
    try:
        return find_project().name
    except AidcError:
        return "aidc"


def stack_name_of(path: Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi."):].rsplit(".", 1)[0]
    return path.stem


def resolve_stack(stack: str | None, stack_file_path: Path | None,
                  program_dir: Path = STACKS_DIR) -> tuple[str, Path]:
    """A stack name or an explicit file, as the CLI takes them; a name is looked up where the
    program's project keeps its stack files."""
    if stack_file_path is not None:
        return (stack or stack_name_of(stack_file_path)), stack_file_path
    if not stack:
        raise AidcError("give a STACK name (e.g. dev) or --stack-file PATH")
    if program_dir.resolve() == STACKS_DIR.resolve():
        return stack, stack_file(stack, program_dir)
    return stack, stack_file(stack, find_project(program_dir).stack_dir)


def project_config(flat: dict[str, Any], project: str) -> dict[str, Any]:
    """Keys without a namespace belong to the project, as Pulumi reads a stack file."""
    return {(key if ":" in key else f"{project}:{key}"): value for key, value in flat.items()}


def plan_stack(stack: str, path: Path, *, program_dir: Path = STACKS_DIR,
               on_resource: Callable[[PlanResource], None] | None = None,
               timeout: float | None = None, references: References | None = None) -> Plan:
    """Plan aidc's own program (config validated first, so a config error never produces half
    a plan) or any other Pulumi Python program directory, as its own project (name and config
    namespace from its Pulumi.yaml), with its stack file's config; `on_resource` sees each
    resource as it is registered.

    The plan records where each resource comes from (the stack file's line for the config key
    that built it, the program's line that registered it, relative to the repository root) and
    the stack's policy settings, so `aidc check --plan` judges it as `aidc check STACK` would.

    The program runs isolated (infra.engine.isolate): one that exits, crashes, is killed or
    outlives `timeout` seconds yields no plan but a ProgramFailed naming what happened.

    Each `pulumi.StackReference` reads the referenced stack's planned outputs, resolved by
    `references` (default: this invocation's repository, `References`)."""
    from infra.report.capacity import capacity_report

    ours = program_dir.resolve() == STACKS_DIR.resolve()
    project = find_project(None if ours else program_dir)
    if not ours:
        program_dir = project.program_dir
    if not (program_dir / "__main__.py").is_file():
        raise AidcError(f"--program {program_dir}: no __main__.py there; a Pulumi Python program "
                        "directory is needed")
    lines: dict[KeyPath, int] = {}
    flat, secret_keys = read_stack_file(path, lines=lines)
    flat = project_config(flat, project.name)
    cfg = config_from_flat(flat, source=str(path)) if ours else None
    settings = policy_settings_of(flat, str(path))
    limit = timeout_seconds(timeout)
    refs = references or References(timeout=timeout)
    refs.know(project)

    def answer(name: str) -> dict[str, Any]:
        return refs.resolver.outputs(parse_stack_name(name, project.name))

    with refs.resolver.planning(StackName(project.name, stack)):
        plan = run_isolated(
            lambda send: run_program(program_from_dir(program_dir), project=project.name,
                                     stack=stack, config=flat, secret_keys=secret_keys,
                                     on_resource=send if on_resource is not None else None,
                                     # aidc's own: the component line that registered it
                                     program_dir=None if ours else program_dir,
                                     references=lambda name: ask(name, answer)),
            timeout=limit, on_item=on_resource, on_ask=answer,
            describe=lambda exc: describe_failure(exc, program_dir))
    root = repository_root(program_dir)
    stack_file_rel = repo_relative(path, root)
    locate_sources(plan, root, stack_file_rel, lines)
    plan.extras["stackFile"] = stack_file_rel
    plan.extras["policy"] = {"settings": settings.model_dump(mode="json", exclude_defaults=True)}
    unset = unset_secret_paths(flat)
    if unset:
        plan.extras["unsetSecrets"] = unset
    if cfg is not None:
        plan.extras["capacity"] = capacity_report(cfg)
    return plan


SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", "build", "dist"})


def repository_projects(root: Path) -> dict[str, list[Project]]:
    """Every Pulumi project under `root` (each directory holding a Pulumi.yaml; hidden
    directories, virtualenvs' site-packages and build output skipped), by its name. A
    Pulumi.yaml without a readable name names no project a reference could mean: skipped."""
    found: dict[str, list[Project]] = {}
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in PROJECT_FILE_NAMES:
            if name in files:
                try:
                    project = _read_project(Path(directory) / name)
                except AidcError:
                    break
                found.setdefault(project.name, []).append(project)
                break
    return found


@dataclass
class References:
    """How one invocation resolves `pulumi.StackReference` names (README, "Stack references"):
    `refs` first (`--ref NAME=PLAN.json`, a saved plan with its outputs), else the project of
    that name among the repository's programs (every Pulumi.yaml under `root`, default the
    repository aidc runs in: the git root above the current directory, else the current
    directory) and the program being planned, with that project's stack file
    `Pulumi.<stack>.yaml`; each referenced stack planned once."""

    root: Path | None = None
    refs: Mapping[StackName, Path] = field(default_factory=dict)
    timeout: float | None = None
    resolver: Resolver = field(init=False)
    _index: dict[str, list[Project]] | None = field(default=None, init=False)
    _extra: dict[str, Project] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.resolver = Resolver(self._plan_of)

    def know(self, project: Project) -> None:
        """A program being planned is found by its name even outside the repository."""
        self._extra.setdefault(project.name, project)

    def project(self, name: StackName) -> Project:
        """The project a referenced stack belongs to, or an error naming it."""
        if self._index is None:
            self._index = repository_projects(self.root or repository_root(Path.cwd()))
        found = {p.file.resolve(): p for p in self._index.get(name.project, [])}
        extra = self._extra.get(name.project)
        if extra is not None:
            found.setdefault(extra.file.resolve(), extra)
        if len(found) > 1:
            raise MissingReference(
                f"stack reference {name}: project {name.project!r} is named by "
                f"{' and '.join(sorted(map(str, found)))}; give one of them another name")
        if not found:
            known = sorted({*self._index, *self._extra})
            raise MissingReference(
                f"stack reference {name}: no Pulumi project named {name.project!r} in "
                f"{self.root or repository_root(Path.cwd())} (projects there: "
                f"{', '.join(known) or 'none'}); or pass --ref {name}=PLAN.json")
        return next(iter(found.values()))

    def _plan_of(self, name: StackName) -> tuple[Plan, str]:
        if name in self.refs:
            return Plan.read(self.refs[name]), f"--ref {name}={self.refs[name]}"
        project = self.project(name)
        stacks = sorted(stack_name_of(p) for p in project.stack_dir.glob("Pulumi.*.y*ml"))
        if name.stack not in stacks:
            raise MissingReference(
                f"stack reference {name}: project {name.project} ({project.file}) has no stack "
                f"{name.stack!r} (its stacks: {', '.join(stacks) or 'none'})")
        path = next(project.stack_dir / f"Pulumi.{name.stack}.{ext}" for ext in ("yaml", "yml")
                    if (project.stack_dir / f"Pulumi.{name.stack}.{ext}").is_file())
        ours = project.program_dir.resolve() == STACKS_DIR.resolve()
        plan = plan_stack(name.stack, path, program_dir=STACKS_DIR if ours else project.file.parent,
                          timeout=self.timeout, references=self)
        return plan, str(path)


def locate_sources(plan: Plan, root: Path, stack_file_rel: str,
                   lines: dict[KeyPath, int]) -> None:
    """Program locations relative to `root` (dropped when outside it: the SDK's or a library's
    own files are no place a reviewer can act on), and each noted config key's line in the
    stack file (the longest prefix of the key that the file spells out)."""
    root = root.resolve()
    for r in plan.resources:
        if r.source is not None:
            rel = repo_relative(r.source.file, root)
            outside = rel.startswith("/") or {"site-packages", "dist-packages"} & set(
                rel.split("/"))
            r.source = None if outside else replace(r.source, file=rel)
        if r.config_key:
            key = r.config_key
            for n in range(len(key), 0, -1):
                line = lines.get(("config", *key[:n]))
                if line is not None:
                    r.config_source = SourceLocation(stack_file_rel, line, config_key_text(key))
                    break


def config_key_text(key: tuple[str | int, ...]) -> str:
    """("aidc:gpu_pools", "h100-mega") -> aidc:gpu_pools.h100-mega; list items as [i]."""
    head, *rest = key
    return str(head) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)


_RISEN = "Error has risen: "


def describe_failure(exc: BaseException, program_dir: Path) -> str:
    """One paragraph for a program that did not finish: what it raised, where in the program,
    and never pydantic's dump of the inputs (a wrong argument may carry a secret)."""
    if isinstance(exc, SystemExit):
        return (f"the program called sys.exit({exc.code!r}) before its plan was complete: no "
                "plan, no verdict")
    cause: BaseException | None = exc
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:  # the SDK wraps what an apply raised
        if isinstance(cause, AidcError):
            return str(cause)
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    root = str(program_dir.resolve())
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if str(Path(f.filename).resolve()).startswith(root)]
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    if isinstance(exc, ValidationError):
        detail = f"{exc.title}: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False, include_context=False))
    elif _RISEN in str(exc):
        # The SDK re-raises what serialising an input raised (a failed apply) as a new
        # ValueError that carries only the text: "... has risen: <the original message>".
        return f"the program failed{where}: {str(exc).rsplit(_RISEN, 1)[1].strip()[:500]}"
    else:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return f"the program failed{where}: {text[:500]}"
