"""`docs/events.md` from the contract itself: `python -m doorstep_contracts.docs --write docs/events.md`.

The text above the marker line is written by hand (delivery rules, headers,
area codes); everything below it is generated from the event classes and from
the services' projections (who consumes what), so the document cannot drift
from the code: a test compares the file with what this renders.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from doorstep_shared.domain import Event

from doorstep_contracts import PRODUCERS, topics_of

MARKER = "<!-- generated from doorstep_contracts: do not edit below this line (make docs) -->"
Consumers = Mapping[tuple[str, str], list[str]]  # (topic, event type) -> ["service.projection", ...]


def consumers_of(definitions: Iterable[Any]) -> dict[tuple[str, str], list[str]]:
    """Who consumes which published event, read from service definitions' projections."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for definition in definitions:
        for projection in definition.projections:
            for name, cls in projection.consumes.items():
                for topic in projection.topics:
                    if cls in topics_of(topic.split(".", 1)[0]).get(topic, ()):
                        out[(topic, name)].append(f"{definition.name}.{projection.name}")
    return {k: sorted(set(v)) for k, v in out.items()}


def service_definitions() -> list[Any]:
    """Every service's definition, built with settings that touch nothing (no broker, no file)."""
    out = []
    for service in PRODUCERS:
        module = importlib.import_module(f"{service}.bootstrap")
        settings = module.Settings(DATABASE_URL="sqlite+aiosqlite:///:memory:", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
        out.append(module.build_definition(settings))
    return out


def _fields(cls: type[Event]) -> str:
    parts = [f"{f.name}: {f.type}" for f in dataclasses.fields(cls)]  # type: ignore[arg-type, unused-ignore]
    return ", ".join(parts)


def _summary(cls: type[Event]) -> str:
    doc = (cls.__doc__ or "").strip()
    if not doc or doc.startswith(f"{cls.__name__}("):  # dataclasses write their signature as the doc
        return ""
    return " — " + " ".join(doc.split("\n\n", 1)[0].split())


def render(consumers: Consumers) -> str:
    lines = [MARKER, ""]
    for service in PRODUCERS:
        lines += [f"## {service}", ""]
        for topic, events in topics_of(service).items():
            lines += [f"### `{topic}`", "", "| event | v | data | consumed by |", "|---|---|---|---|"]
            for cls in events:
                users = ", ".join(f"`{c}`" for c in consumers.get((topic, cls.type_name()), [])) or "—"
                data = _fields(cls).replace("|", "\\|")
                lines.append(f"| `{cls.type_name()}`{_summary(cls)} | {cls.schema_version} | {data} | {users} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def document(current: str, consumers: Consumers) -> str:
    """`current` with everything below the marker (or appended, if it has none) regenerated."""
    head = current.split(MARKER, 1)[0].rstrip() + "\n\n"
    return head + render(consumers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="the markdown file to regenerate (else print the generated part)")
    args = parser.parse_args(argv)
    consumers = consumers_of(service_definitions())
    if args.write is None:
        sys.stdout.write(render(consumers))
        return
    args.write.write_text(document(args.write.read_text(encoding="utf-8"), consumers), encoding="utf-8")


if __name__ == "__main__":
    main()
