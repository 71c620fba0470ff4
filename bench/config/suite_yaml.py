"""YAML as every suite is read: YAML 1.2's floats (``2e-4`` is a number) and no key written
twice in one mapping; malformed YAML is one BenchError. PyYAML only: no torch, no registry."""

import re
from typing import Any

import yaml

from bench.core.errors import BenchError


class SuiteLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's floats: ``2e-4`` and ``1E3`` are numbers (YAML
    1.1, which PyYAML follows, reads an exponent without a dot as a string), and a key
    written twice in one mapping is an error (PyYAML keeps the last, silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in lines:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is written twice (lines {lines[key]} and "
                    f"{line}); keep one", key_node.start_mark)
            lines[key] = line
        return super().construct_mapping(node, deep)


SuiteLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def read_yaml(text_: str, source: str) -> Any:
    """A YAML document read the way every suite is read; malformed YAML is a BenchError."""
    try:
        return yaml.load(text_, Loader=SuiteLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise BenchError(f"{source}: malformed YAML: {detail}") from None
