"""`zhixiao flows list|export|import --school CODE`: a school's approval flows as YAML or JSON, for
pipelines and for moving a flow from one school to another. Import checks everything before it saves
(all or nothing), exactly as the flow editor does."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhixiao.org import selectors as org_selectors
from zhixiao.workflow import selectors, services


class Command(BaseCommand):
    help = "List, export or import a school's approval flows (YAML or JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "export", "import"])
        parser.add_argument("--school", required=True, help="学校标识码 (10 digits)")
        parser.add_argument("--key", help="export: one flow's key (default: all)")
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
        parser.add_argument("--file", help="import: the YAML or JSON file (one flow or a list)")

    def handle(self, *args: Any, **opts: Any) -> None:
        school = org_selectors.school_by_code(opts["school"])
        if school is None:
            self.stderr.write(f"找不到学校标识码为 {opts['school']} 的学校")
            sys.exit(1)
        if opts["action"] == "import":
            if not opts["file"] or not Path(opts["file"]).is_file():
                self.stderr.write("请用 --file 指定要导入的 YAML 或 JSON 文件")
                sys.exit(1)
            try:
                saved = services.import_definitions(
                    actor=None, school_id=school.pk, text=Path(opts["file"]).read_text(encoding="utf-8")
                )
            except services.DefinitionInvalid as e:
                for problem in e.problems:
                    self.stderr.write(problem)
                sys.exit(1)
            for d in saved:
                self.stdout.write(f"{d.key}\t{d.name}\tv{d.current.number if d.current else '?'}")
            return
        definitions = selectors.definitions_of_school(school_id=school.pk)
        if opts["key"]:
            definitions = definitions.filter(key=opts["key"])
            if not definitions.exists():
                self.stderr.write(f"本校没有流程 {opts['key']}")
                sys.exit(1)
        if opts["action"] == "list":
            for d in definitions:
                state = "启用" if d.active else "停用"
                self.stdout.write(f"{d.key}\t{d.name}\tv{d.current.number if d.current else '?'}\t{state}")
            return
        texts = [services.export_definition(d, opts["format"]) for d in definitions]
        if opts["format"] == "json":
            self.stdout.write(texts[0] if len(texts) == 1 else "[\n" + ",\n".join(texts) + "\n]")
        else:
            self.stdout.write("---\n".join(texts) if len(texts) == 1 else _yaml_list(texts))


def _yaml_list(texts: list[str]) -> str:
    """Several flows as one YAML list (what `import` reads back)."""
    out = []
    for text in texts:
        lines = text.rstrip("\n").splitlines()
        out.append("- " + lines[0] + "".join("\n  " + line for line in lines[1:]))
    return "\n".join(out) + "\n"
