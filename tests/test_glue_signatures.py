"""The local awsglue runtime offers only what AWS's awsglue of the installed Glue version offers,
with the same signatures.

Every public module, class, method (including __init__, classmethods and properties) and function of
the local runtime must exist in AWS's package of that version (AWSGlueDataplanePython 5.0.0,
5.1.0 or 6.0.0; AWS has published none for 6.1, whose environment reads 6.0.0), installed by make
into <environment>/glue-reference, with the same parameter names, order, kinds and default
values, so that a job that runs locally calls Glue the same way on AWS. AWS's package is read as
source with `ast`, never imported: as `awsglue` it would shadow the local runtime, and it needs
Glue's JVM classes.
"""

import ast
import functools
import importlib
import inspect
import os
import pkgutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import FunctionType, ModuleType

import awsglue
import pytest

pytestmark = pytest.mark.every_glue_version

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = Path(
    os.environ.get("GLUE_REFERENCE_DIR", Path(sys.prefix) / "glue-reference" / "awsglue")
)

# What the local runtime may offer beyond AWS's package, and why.
LOCAL_ONLY_MODULES = {
    "awsglue.local_errors": "holds the local runtime's own errors, listed below",
}
LOCAL_ONLY_NAMES = {
    "LocalGlueError": "base class of the errors that only the local runtime raises",
    "LocalS3PathError": "the local runtime refuses S3 paths instead of touching a real bucket",
    "LocalUnsupportedError":
        "the local runtime refuses what it does not implement instead of ignoring it",
    "LocalCatalogRootError":
        "the local Data Catalog needs a root folder, which AWS's catalog does not",
}
# What the Glue jobs call; the walk below must reach all of it, or the check proves nothing.
USED_BY_THE_JOBS = {
    "awsglue.DynamicFrame",
    "awsglue.utils.getResolvedOptions",
    "awsglue.context.GlueContext.__init__",
    "awsglue.context.GlueContext.getSink",
    "awsglue.context.GlueContext.purge_s3_path",
    "awsglue.context.GlueContext.get_logger",
    "awsglue.data_sink.DataSink.setFormat",
    "awsglue.data_sink.DataSink.setCatalogInfo",
    "awsglue.data_sink.DataSink.writeFrame",
    "awsglue.dynamicframe.DynamicFrame.fromDF",
    "awsglue.job.Job.__init__",
    "awsglue.job.Job.init",
    "awsglue.job.Job.commit",
}

REQUIRED = "<no default>"
Parameter = tuple[str, str, object]  # name, kind, default (REQUIRED or (type name, value))


@dataclass(frozen=True)
class Signature:
    """How a callable is bound (function, method, classmethod, staticmethod, property, class) and
    its parameters."""

    binding: str
    parameters: tuple[Parameter, ...] = ()

    def __str__(self) -> str:
        def show(parameter: Parameter) -> str:
            name, kind, default = parameter
            prefix = {"VAR_POSITIONAL": "*", "VAR_KEYWORD": "**"}.get(kind, "")
            return f"{prefix}{name}" + ("" if default == REQUIRED else f"={default[1]!r}")

        return f"{self.binding}({', '.join(map(show, self.parameters))})"


@dataclass
class OfficialModule:
    """What an official module's source defines: signatures by qualified name, and every bound
    name."""

    signatures: dict[str, Signature] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)


# --- the official package, parsed
# ------------------------------------------------------------------


def literal(node: ast.expr) -> tuple[str, object]:
    """A default value in a form comparable with a live one: type name and value (0 must not
    equal False)."""
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return ("expression", ast.unparse(node))
    return (type(value).__name__, value)


def parameters_of(arguments: ast.arguments) -> tuple[Parameter, ...]:
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults = [REQUIRED] * (len(positional) - len(arguments.defaults)) + [
        literal(d) for d in arguments.defaults
    ]
    kinds = ["POSITIONAL_ONLY"] * len(arguments.posonlyargs) + ["POSITIONAL_OR_KEYWORD"] * len(
        arguments.args
    )
    parameters = [
        (arg.arg, kind, default) for arg, kind, default in zip(positional, kinds, defaults)
    ]
    if arguments.vararg:
        parameters.append((arguments.vararg.arg, "VAR_POSITIONAL", REQUIRED))
    for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        parameters.append(
            (arg.arg, "KEYWORD_ONLY", REQUIRED if default is None else literal(default))
        )
    if arguments.kwarg:
        parameters.append((arguments.kwarg.arg, "VAR_KEYWORD", REQUIRED))
    return tuple(parameters)


def binding_of(function: ast.FunctionDef) -> str:
    decorators = {d.id for d in function.decorator_list if isinstance(d, ast.Name)}
    return next(
        (b for b in ("classmethod", "staticmethod", "property") if b in decorators), "method"
    )


def top_level_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Module statements, including those inside top-level if/try blocks (e.g. Python 2/3
    variants)."""
    statements = []
    for statement in body:
        if isinstance(statement, (ast.If, ast.Try)):
            nested = [*statement.body, *statement.orelse, *getattr(statement, "finalbody", [])]
            statements.extend(top_level_statements(nested))
        else:
            statements.append(statement)
    return statements


def bound_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).split(".")[0] for alias in statement.names]
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        return [
            name.id for target in targets for name in ast.walk(target) if isinstance(name, ast.Name)
        ]
    return []


def parse_official_module(source: str) -> OfficialModule:
    parsed = OfficialModule()
    for statement in top_level_statements(ast.parse(source).body):
        parsed.names.update(bound_names(statement))
        if isinstance(statement, ast.FunctionDef):
            parsed.signatures[statement.name] = Signature("function", parameters_of(statement.args))
        elif isinstance(statement, ast.ClassDef):
            parsed.signatures[statement.name] = Signature("class")
            for member in statement.body:
                for name in bound_names(member):
                    parsed.names.add(f"{statement.name}.{name}")
                if isinstance(member, ast.FunctionDef):
                    parsed.signatures[f"{statement.name}.{member.name}"] = Signature(
                        binding_of(member), parameters_of(member.args)
                    )
    return parsed


def official_source(module_name: str) -> Path:
    relative = Path(*module_name.split(".")[1:])
    as_file = (
        REFERENCE_DIR / relative.with_suffix(".py")
        if relative.parts
        else REFERENCE_DIR / "__init__.py"
    )
    return as_file if as_file.is_file() else REFERENCE_DIR / relative / "__init__.py"


@functools.cache
def official_modules() -> dict[str, OfficialModule | None]:
    """The official package's modules by dotted name (None for a module it does not have).

    A missing package fails each check (rather than erroring in a fixture or skipping): an
    unchecked runtime must never look green.
    """
    if not (REFERENCE_DIR / "__init__.py").is_file():
        pytest.fail(
            f"AWS's awsglue package (AWSGlueDataplanePython) is not installed in {REFERENCE_DIR}: "
            "run `make test`, which installs it (or set GLUE_REFERENCE_DIR to its awsglue folder)"
        )
    modules = {}
    for module in local_modules():
        source = official_source(module.__name__)
        modules[module.__name__] = (
            parse_official_module(source.read_text()) if source.is_file() else None
        )
    return modules


# --- the local runtime, walked
# ---------------------------------------------------------------------


def local_modules() -> list[ModuleType]:
    """The local package and its public modules."""
    names = [
        info.name
        for info in pkgutil.iter_modules(awsglue.__path__)
        if not info.name.startswith("_")
    ]
    return [awsglue, *(importlib.import_module(f"awsglue.{name}") for name in sorted(names))]


def is_own(value: object) -> bool:
    """Whether a module attribute belongs to the local runtime (not a pyspark or standard library
    import)."""
    origin = getattr(value, "__module__", None)
    return origin is None or origin == "awsglue" or origin.startswith("awsglue.")


def public_names(module: ModuleType) -> list[str]:
    """Every public name that the module offers, defined there or imported from the local
    runtime."""
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and is_own(value)
    )


def local_parameters(function: FunctionType) -> tuple[Parameter, ...]:
    def default(parameter: inspect.Parameter) -> object:
        if parameter.default is inspect.Parameter.empty:
            return REQUIRED
        return (type(parameter.default).__name__, parameter.default)

    return tuple(
        (p.name, p.kind.name, default(p)) for p in inspect.signature(function).parameters.values()
    )


def member_signature(member: object) -> Signature | None:
    """The signature of a class attribute, or None when it is not a method or property."""
    if isinstance(member, (classmethod, staticmethod)):
        return Signature(type(member).__name__, local_parameters(member.__func__))
    if isinstance(member, property):
        return Signature("property", local_parameters(member.fget))
    if isinstance(member, FunctionType):
        return Signature("method", local_parameters(member))
    return None


def local_signatures(module: ModuleType) -> dict[str, Signature | None]:
    """Signatures of the module's own public functions, classes and class members (None for a
    data attribute)."""
    signatures: dict[str, Signature | None] = {}
    for name in public_names(module):
        value = getattr(module, name)
        if getattr(value, "__module__", None) != module.__name__ or name in LOCAL_ONLY_NAMES:
            continue
        if inspect.isclass(value):
            signatures[name] = Signature("class")
            for member_name, member in vars(value).items():
                if member_name == "__init__" or not member_name.startswith("_"):
                    signatures[f"{name}.{member_name}"] = member_signature(member)
        elif inspect.isfunction(value):
            signatures[name] = Signature("function", local_parameters(value))
        else:
            signatures[name] = None
    return signatures


LOCAL_MODULES = local_modules()
LOCAL_NAMES = [
    (m.__name__, name)
    for m in LOCAL_MODULES
    for name in public_names(m)
    if name not in LOCAL_ONLY_NAMES
]
LOCAL_SIGNATURES = [
    (m.__name__, qualname, signature)
    for m in LOCAL_MODULES
    if m.__name__ not in LOCAL_ONLY_MODULES
    for qualname, signature in local_signatures(m).items()
]


def signature_differences(local: Signature, official: Signature | None) -> list[str]:
    """What differs between a local and an official signature, in words (empty when they agree)."""
    if official is None:
        return ["the official package defines no such function, class or method"]
    if local.binding != official.binding:
        return [f"it is a {local.binding} locally but a {official.binding} in the official package"]
    if local.parameters != official.parameters:
        return [f"local {local} != official {official}"]
    return []


# --- the checks
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [m.__name__ for m in LOCAL_MODULES])
def test_local_module_exists_in_the_official_package(module):
    official = official_modules()
    assert module in LOCAL_ONLY_MODULES or official[module] is not None, (
        f"{module} has no counterpart in AWS's awsglue; "
        "list it in LOCAL_ONLY_MODULES with a reason if it must exist"
    )


@pytest.mark.parametrize(("module", "name"), LOCAL_NAMES, ids=[f"{m}.{n}" for m, n in LOCAL_NAMES])
def test_local_public_name_exists_in_the_official_module(module, name):
    official = official_modules()
    if module in LOCAL_ONLY_MODULES:
        pytest.fail(f"{module} may hold only the names in LOCAL_ONLY_NAMES, not {name}")
    assert name in official[module].names, (
        f"{module}.{name} is public locally but AWS's {module} has no {name}: "
        f"make it private (_{name}) or remove it"
    )


@pytest.mark.parametrize(
    ("module", "qualname", "signature"),
    LOCAL_SIGNATURES,
    ids=[f"{m}.{q}" for m, q, _ in LOCAL_SIGNATURES],
)
def test_local_signature_matches_the_official_one(module, qualname, signature):
    official_module = official_modules()[module]
    assert official_module is not None, f"AWS's awsglue has no module {module}"
    if signature is None:
        assert qualname in official_module.names, (
            f"{module}.{qualname} is not an attribute in AWS's package"
        )
    else:
        assert signature_differences(signature, official_module.signatures.get(qualname)) == []


def test_the_check_covers_everything_the_jobs_use():
    checked = {f"{module}.{qualname}" for module, qualname, _ in LOCAL_SIGNATURES}
    checked |= {f"{module}.{name}" for module, name in LOCAL_NAMES}
    assert USED_BY_THE_JOBS - checked == set()


def test_a_changed_default_is_reported():
    def purge_s3_path(self, s3_path, options={}, transformation_ctx="purge"):  # noqa: B006
        """purge_s3_path with transformation_ctx defaulting to "purge" instead of Glue's ""."""

    reference = official_modules()["awsglue.context"].signatures["GlueContext.purge_s3_path"]
    assert signature_differences(
        Signature("method", local_parameters(purge_s3_path)), reference
    ) == [
        "local method(self, s3_path, options={}, transformation_ctx='purge') != "
        "official method(self, s3_path, options={}, transformation_ctx='')"
    ]
