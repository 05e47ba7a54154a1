"""Which cells of a submission the grades depend on: a static analysis of names, outside the
sandbox.

No code of the submission runs here: each cell is parsed (:mod:`ast`) and its scopes resolved
(:mod:`symtable`). A cell is *needed* when it is a root, or when a needed cell may read what it
leaves behind:

- **roots**: the lesson's import cell, every answer cell, every cell that is not one of the
  lesson's own cells (added or edited by the learner), every cell the analysis cannot read;
- **names**: a needed cell at position ``p`` uses a global name (at its top level, or inside a
  function, class or comprehension it defines: those run later, when an answer is called); every
  cell before ``p`` that binds that name, or may change the object it names (it stores into an
  attribute or item of it, or reads it at all when the name is bound to data rather than only to
  a module, function or class), is needed, and so on through those cells' own names. The
  position is the root's, so a cell between a helper's definition and the answer that rebinds
  what the helper reads is needed too;
- **hidden state**: a cell that the answers depend on and that computes data at its top level
  (a call whose result it binds or stores) may read process state a skipped cell changed (the
  random generators, torch's default dtype, files): then every earlier cell that calls anything at
  its top level is needed too;
- **unsure**: setting an attribute or item of a name an import bound (a module, or what was
  imported from one), ``exec``, ``eval``, ``compile``, ``globals()``, ``locals()``, ``vars()``,
  ``__import__``, ``setattr``/``delattr``, ``get_ipython``, ``__builtins__``, ``sys.modules``, star
  imports, IPython syntax (``%run``, ``!cmd``, ``?``) or source that does not parse: such a cell
  may define or use anything, so it runs, and every cell before it runs.

The check cells never run (the grader's steps replace them); each binds its exercise's answer name
at the answer's position, which the analysis treats like the answer cell binding it.
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["CellNames", "analyse", "needed_cells"]

# Names whose use means the analysis cannot know what a cell reads or writes.
UNSURE_NAMES = frozenset({
    "exec", "eval", "compile", "globals", "locals", "vars", "__import__", "setattr", "delattr",
    "get_ipython", "__builtins__", "__builtin__", "builtins", "importlib", "runpy", "execfile",
    "run_line_magic", "run_cell_magic", "run_cell", "user_ns",
})
UNSURE_ATTRIBUTES = frozenset({"modules", "__dict__", "f_globals", "f_locals", "user_ns",
                               "run_line_magic", "run_cell_magic", "run_cell", "system",
                               "__globals__", "__builtins__"})


@dataclass
class CellNames:
    """What one cell binds and uses, as far as a static analysis can tell."""

    binds: set[str] = field(default_factory=set)  # global names it may bind (or delete)
    data: set[str] = field(default_factory=set)  # ... of those, bound to data (not def/import)
    uses: set[str] = field(default_factory=set)  # global names it may read (any scope)
    stores_into: set[str] = field(default_factory=set)  # globals whose attribute/item it sets
    imports: set[str] = field(default_factory=set)  # names it binds by import
    calls: bool = False  # it calls something at its top level
    computes: bool = False  # ... and binds or stores what a top-level call computed
    unsure: str = ""  # why the analysis cannot be sure about it ("" when it can)


def _top_level(tree: ast.AST) -> Iterable[ast.AST]:
    """Nodes that run when the cell runs: not inside a function or lambda body (decorators,
    defaults and class bodies do run)."""
    todo = list(ast.iter_child_nodes(tree))
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            todo += node.decorator_list + node.args.defaults + [
                d for d in node.args.kw_defaults if d is not None]
            if node.returns is not None:
                todo.append(node.returns)
        elif isinstance(node, ast.Lambda):
            todo += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
        else:
            todo += ast.iter_child_nodes(node)


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _global_names(table: symtable.SymbolTable, uses: set[str], binds: set[str]) -> None:
    for child in table.get_children():
        for sym in child.get_symbols():
            if sym.is_global() or (child.get_type() == "class" and not sym.is_local()
                                   and not sym.is_free()):
                if sym.is_referenced():
                    uses.add(sym.get_name())
                if sym.is_declared_global() and sym.is_assigned():
                    binds.add(sym.get_name())
        _global_names(child, uses, binds)


def analyse(source: str) -> CellNames:
    """The names of one cell's source (a notebook cell, IPython syntax included)."""
    names = CellNames()
    try:
        tree = ast.parse(source)
        table = symtable.symtable(source, "<cell>", "exec")
    except SyntaxError:
        names.unsure = "IPython syntax (a magic, a shell command or '?') or a syntax error"
        return names
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        names.unsure = f"it could not be analysed ({type(exc).__name__})"
        return names
    for sym in table.get_symbols():
        if sym.is_referenced():
            names.uses.add(sym.get_name())
        if sym.is_assigned() or sym.is_imported():
            names.binds.add(sym.get_name())
    _global_names(table, names.uses, names.binds)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            names.unsure = "a star import"
        elif isinstance(node, ast.Name) and node.id in UNSURE_NAMES:
            names.unsure = f"it uses {node.id}"
        elif isinstance(node, ast.Attribute) and node.attr in UNSURE_ATTRIBUTES:
            names.unsure = f"it uses .{node.attr}"
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and (
                any(a.name.split(".")[0] in UNSURE_NAMES | UNSURE_ATTRIBUTES
                    for a in node.names)
                or (isinstance(node, ast.ImportFrom)
                    and (node.module or "").split(".")[0] in UNSURE_NAMES)):
            names.unsure = "it imports the import machinery"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.imports.update((a.asname or a.name).split(".")[0] for a in node.names)
        if (isinstance(node, (ast.Attribute, ast.Subscript))
              and isinstance(node.ctx, (ast.Store, ast.Del))):
            root = _root_name(node)
            if root is not None:
                names.stores_into.add(root)
        elif isinstance(node, ast.AugAssign):
            root = _root_name(node.target)
            if root is not None:
                names.stores_into.add(root)
        if names.unsure:
            return names
    # Names bound to data, not only by def, class or import (reading those changes nothing).
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.data.add(node.id)
        elif isinstance(node, (ast.ExceptHandler,)) and node.name:
            names.data.add(node.name)
        elif isinstance(node, ast.MatchAs) and node.name:
            names.data.add(node.name)
        elif isinstance(node, ast.MatchStar) and node.name:
            names.data.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.data.add(node.rest)
    names.data &= names.binds
    for node in _top_level(tree):
        if isinstance(node, ast.Call):
            names.calls = True
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.NamedExpr, ast.For,
                             ast.AsyncFor, ast.With, ast.AsyncWith, ast.Delete)):
            if any(isinstance(n, ast.Call) for n in ast.walk(node)):
                names.computes = True
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            root = _root_name(node.value.func)
            if root is not None and isinstance(node.value.func, ast.Attribute):
                names.computes = True  # a method call may change the object it is called on
    return names


MAX_CELLS = 2000  # more code cells than this: the grader runs them all (the analysis is O(n^2))


def _closure(cells: Sequence[CellNames], seeds: Iterable[int], bound: dict[int, int]) -> None:
    """Add to ``bound`` ({cell: position up to which its names are looked up}) the seeds and
    every cell before a seed's position that touches a name they use, transitively."""
    data_names = set().union(*(c.data for c in cells)) if cells else set()
    queue = [(i, i) for i in seeds]
    while queue:
        i, upto = queue.pop()
        if i in bound and bound[i] >= upto:
            continue
        bound[i] = upto
        cell = cells[i]
        if cell.unsure:  # it may read anything: everything before it
            queue += [(j, i) for j in range(i)]
            continue
        for j in range(upto):
            other = cells[j]
            if j != i and any(name in other.binds or name in other.stores_into
                              or (name in data_names and name in other.uses)
                              for name in cell.uses):
                queue.append((j, upto))


def needed_cells(cells: Sequence[CellNames], roots: Iterable[int], answers: Iterable[int]
                 ) -> set[int]:
    """The positions of the cells to run, given the analysed cells that may run (in order), the
    roots (positions that always run) and the answer cells among them."""
    cells = list(cells)
    if len(cells) > MAX_CELLS:
        return set(range(len(cells)))
    modules = set().union(*(c.imports for c in cells))
    for cell in cells:  # setting an attribute of a module (or of what an import bound)
        patched = sorted(cell.stores_into & modules)
        if patched and not cell.unsure:
            cell.unsure = f"it changes {patched[0]}, which an import bound"
    unsure = [i for i, c in enumerate(cells) if c.unsure]
    needed: dict[int, int] = {}
    _closure(cells, [*roots, *unsure], needed)
    graded: dict[int, int] = {}  # what the answers read: the hidden state matters there
    _closure(cells, [*answers, *unsure], graded)
    while True:
        computing = [i for i in graded if cells[i].computes or cells[i].unsure]
        upto = max(computing, default=-1)
        writers = [j for j in range(upto) if cells[j].calls and j not in graded]
        if not writers:
            break
        _closure(cells, writers, graded)
    _closure(cells, graded, needed)
    return set(needed)
