"""The layer rule of docs/architecture.md, checked on the source (an AST walk, every import,
at module level or inside a function):

    xsell.models -> xsell.config | xsell.retrying -> xsell.store | xsell.kafka_clients
        -> xsell.engine -> xsell.notify | xsell.feedback | xsell.connect -> xsell.streams
        -> xsell.ops -> xsell.api -> xsell.cli

(xsell.models, xsell.config and xsell.streams live in the top-level folders models/, config/
and streams/; xsell/models etc. are links to them, which the walk does not follow.)

A module may import its own layer's package and lower layers only; the packages that share a
layer do not import each other. Product code never imports the harness (xsell.devenv,
xsell.verify, xsell.bench, xsell.evaluation) nor the tests, with one exception: the CLI starts
the harness commands, from inside the command functions of xsell/cli/harness.py,
xsell/cli/eval_args.py and xsell/cli/bench_args.py only, so no production command loads them.
The harness may import any product code, and nothing imports the tests.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAYERS: tuple[tuple[str, ...], ...] = (
    ("xsell.models",),
    ("xsell.config", "xsell.retrying"),
    ("xsell.store", "xsell.kafka_clients"),
    ("xsell.engine",),
    ("xsell.notify", "xsell.feedback", "xsell.connect"),
    ("xsell.streams",),
    ("xsell.ops",),
    ("xsell.api",),
    ("xsell.cli",),
)
HARNESS = ("xsell.devenv", "xsell.verify", "xsell.bench", "xsell.evaluation")
HARNESS_STARTERS = ("xsell.cli.harness", "xsell.cli.eval_args", "xsell.cli.bench_args")
# the folders of the tree and the package each one is
ROOTS = {
    "models": "xsell.models",
    "config": "xsell.config",
    "streams": "xsell.streams",
    "xsell": "xsell",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports
    line: int
    top_level: bool  # at module level (not inside a function)


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def package_of(name: str) -> str | None:
    """The layer package or harness package ``name`` belongs to (None: outside xsell)."""
    for group in (*LAYERS, HARNESS):
        for package in group:
            if _within(name, package):
                return package
    if name == "xsell":
        return "xsell.models"  # the bare package: nothing but a docstring
    if name == "tests" or name.startswith("tests."):
        return "tests"
    return None


def layer_of(package: str) -> int | None:
    return next((i for i, group in enumerate(LAYERS) if package in group), None)


def imports(root: Path) -> list[Import]:
    """Every import of xsell's own modules under ``root``."""
    found = []
    for top, package in ROOTS.items():
        for path in sorted((root / top).rglob("*.py")):  # rglob does not follow the links
            module = ".".join((package, *path.relative_to(root / top).with_suffix("").parts))
            module = module.removesuffix(".__init__")
            tree = ast.parse(path.read_text(), str(path))
            functions = [
                n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
            nested = {id(n) for f in functions for n in ast.walk(f)}
            for node in ast.walk(tree):
                targets: list[str] = []
                if isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets = [node.module]
                for target in targets:
                    if package_of(target) is not None:
                        found.append(Import(module, target, node.lineno, id(node) not in nested))
    return found


def violations(root: Path) -> list[str]:
    """Every import under ``root`` that breaks the rule (module docstring), as text."""
    out = []
    for imp in imports(root):
        source, target = package_of(imp.module), package_of(imp.target)
        assert source is not None and target is not None
        where = f"{imp.module}:{imp.line} imports {imp.target}"
        if target == "tests":
            out.append(f"{where}: nothing imports the tests")
        elif source in HARNESS:
            continue  # the harness may use any product code and itself
        elif target in HARNESS:
            starter = imp.module in HARNESS_STARTERS and not imp.top_level
            if not starter:
                out.append(
                    f"{where}: product code never imports the harness (only the CLI's "
                    "harness commands do, inside their functions)"
                )
        elif source != target:
            low, high = layer_of(target), layer_of(source)
            assert low is not None and high is not None
            if low > high:
                out.append(f"{where}: a lower layer imports a higher one")
            elif low == high:
                out.append(f"{where}: {source} and {target} share a layer and stay apart")
    return out


def test_the_tree_follows_the_layer_rule() -> None:
    assert violations(REPO) == []


def test_every_package_of_the_tree_has_a_place_in_the_rule() -> None:
    for path in (REPO / "xsell").iterdir():
        if path.name.startswith(("_", ".")):
            continue
        name = "xsell." + path.name.removesuffix(".py")
        assert package_of(name) is not None, f"{name} is in no layer"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for top in ROOTS:
        (tmp_path / top).mkdir(exist_ok=True)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        (
            "xsell/engine.py",
            "from xsell.devenv.servers import LocalRedis\n",
            "product code never imports the harness",
        ),
        (
            "streams/app.py",
            "def f():\n    import xsell.verify.chaos\n",
            "product code never imports the harness",
        ),
        (
            "xsell/cli/operate.py",
            "def f():\n    from xsell.bench.runner import run_bench\n",
            "product code never imports the harness",
        ),
        (
            "xsell/cli/harness.py",
            "from xsell.devenv.demo import run_demo\n",
            "product code never imports the harness",
        ),
        (
            "models/ranking.py",
            "from xsell.config.settings import Settings\n",
            "a lower layer imports a higher one",
        ),
        (
            "xsell/store/core/reader.py",
            "from xsell.engine import Engine\n",
            "a lower layer imports a higher one",
        ),
        (
            "streams/app.py",
            "from xsell.ops.state import rebuild\n",
            "a lower layer imports a higher one",
        ),
        (
            "xsell/store/core/apply.py",
            "from xsell.kafka_clients import producer\n",
            "share a layer and stay apart",
        ),
        ("xsell/devenv/stack.py", "from tests.helpers import run\n", "nothing imports the tests"),
    ],
)
def test_a_module_that_breaks_the_rule_is_reported(
    tmp_path: Path, name: str, text: str, reason: str
) -> None:
    (found,) = violations(_tree(tmp_path, {name: text}))
    top, _, rest = name.removesuffix(".py").partition("/")
    assert found.startswith(ROOTS[top] + "." + rest.replace("/", ".") + ":")
    assert reason in found


def test_what_the_rule_allows_is_not_reported(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "xsell/cli/harness.py": "def cmd():\n    from xsell.devenv.demo import run_demo\n",
            "xsell/devenv/demo.py": (
                "from xsell.engine import Engine\nfrom xsell.streams.app import x\n"
            ),
            "streams/app.py": "from xsell.engine import Engine\nfrom xsell.store import S\n",
            "xsell/ops/state.py": "import numpy\nfrom xsell.models.events import Event\n",
        },
    )
    assert violations(root) == []


# What the store keeps to itself: its runner (pipelines), its Redis client and its key names.
STORE_INTERNALS = re.compile(
    r"\bstore\.(runner|client|keys|calls|ledger)\b|\brunner\.run\(|\.pipeline\(|\bEVALSHA\b"
)
LAYOUT_ORACLE = "xsell/verify/state_oracle.py"  # the store's key layout test (pyproject)


def internals_outside_the_store(root: Path) -> list[str]:
    """Lines outside xsell/store/ that reach into the store (module ``STORE_INTERNALS``)."""
    out = []
    for top in ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if name.startswith("xsell/store/") or name == LAYOUT_ORACLE:
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if STORE_INTERNALS.search(line):
                    out.append(f"{name}:{n}: {line.strip()}")
    return out


def test_nothing_outside_the_store_reaches_into_it() -> None:
    assert internals_outside_the_store(REPO) == []


def test_reaching_into_the_store_is_reported(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "xsell/api/x.py": "await store.runner.run([('GET', store.keys.meta)])\n",
            "xsell/store/core/y.py": "await self.runner.run([])\n",
            "xsell/ops/z.py": "await store.ops.summary()\n",
        },
    )
    assert internals_outside_the_store(root) == [
        "xsell/api/x.py:1: await store.runner.run([('GET', store.keys.meta)])"
    ]
