"""Print Vigil's import graph between its packages, as grimp (import-linter's engine) builds it.

Usage: python tools/import_graph.py [--modules]   (make import-graph)
Each line is `importer -> imported (N imports)`; --modules lists the module-level imports behind each edge.
"""
from __future__ import annotations

import sys
from collections import defaultdict

import grimp

PACKAGES = ("vigil", "crawlers", "classifiers.training", "classifiers", "streams")


def package_of(module: str) -> str:
    return next(p for p in PACKAGES if module == p or module.startswith(p + "."))


def main() -> int:
    graph = grimp.build_graph(*(p for p in PACKAGES if "." not in p))
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            source, target = package_of(importer), package_of(imported)
            if source != target:
                edges[(source, target)].append(f"{importer} -> {imported}")
    for (source, target), imports in sorted(edges.items(), key=lambda e: (PACKAGES.index(e[0][0]), e[0][1])):
        print(f"{source} -> {target} ({len(imports)} imports)")
        if "--modules" in sys.argv:
            print("".join(f"    {line}\n" for line in imports), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
