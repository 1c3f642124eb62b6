"""Newton-format SFT examples, read and checked as the built-in text trainer does
(docs/trainers/text-sft.md): JSONL, a JSON array (or one object) or a YAML document stream, chosen by
extension or sniffed; `inputs` a non-empty list of events with string `event_data.contents`;
`outputs` at least one `data.text` event with string contents; optional `lens_parameters.instruction`.
Prompt = instruction and every input's contents joined by newlines; answer = the data.text outputs'
contents, trimmed, joined by a newline. The first problem raises InvalidDataset naming file and line.
Standard library only; YAML needs PyYAML (Debian's python3-yaml) and says so when it is missing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from .session import DataFile, InvalidDataset


@dataclass(frozen=True)
class SftExample:
    prompt: str
    answer: Optional[str]  # None: no outputs (predict input)


def check_example(value: Any, require_outputs: bool = True) -> SftExample:
    """One example → SftExample; raises ValueError with the built-in trainer's wording."""
    if not isinstance(value, dict):
        raise ValueError("an example must be an object with `inputs` and `outputs`")
    texts: list[str] = []
    lens = value.get("lens_parameters")
    if lens is not None:
        if not isinstance(lens, dict):
            raise ValueError("`lens_parameters` must be an object")
        ins = lens.get("instruction")
        if ins is not None and not isinstance(ins, str):
            raise ValueError("`lens_parameters.instruction` must be a string")
        if ins:
            texts.append(ins)
    inputs = value.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise ValueError("`inputs` must be a non-empty list of events")
    for i, ev in enumerate(inputs):
        c = _contents(ev)
        if c is None:
            raise ValueError(f"`inputs[{i}].event_data.contents` must be a string")
        texts.append(c)
    outputs = value.get("outputs")
    answer: Optional[str] = None
    if outputs is None and not require_outputs:
        pass
    elif not isinstance(outputs, list):
        raise ValueError("`outputs` must be a list holding at least one data.text event")
    else:
        labels = [c for ev in outputs if isinstance(ev, dict) and ev.get("type") == "data.text" for c in [_contents(ev)] if c is not None]
        if not labels:
            raise ValueError('`outputs` must hold at least one event with `type: "data.text"` and string `event_data.contents`')
        answer = "\n".join(label.strip() for label in labels)
    return SftExample("\n".join(texts), answer)


def _contents(ev: Any) -> Optional[str]:
    if not isinstance(ev, dict) or not isinstance(ev.get("event_data"), dict):
        return None
    c = ev["event_data"].get("contents")
    return c if isinstance(c, str) else None


def _container(name: str, text: str) -> str:
    low = name.lower()
    if low.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if low.endswith((".yaml", ".yml")):
        return "yaml"
    head = text.lstrip()[:1]
    if low.endswith(".json") or head in ("[", "{"):
        if head == "[":
            return "json"
        try:
            json.loads(text)
            return "json"
        except ValueError:
            return "jsonl"
    return "yaml"


def _values(f: DataFile, text: str) -> Iterator[tuple[int, Any]]:
    """(line, value) of every example of one file."""
    kind = _container(f.file_id or f.path, text)
    if kind == "jsonl":
        for n, line in enumerate(text.split("\n"), 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except ValueError as e:
                    raise InvalidDataset(f"{f.file_id} (line {n}): not valid JSON: {e}") from None
    elif kind == "json":
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise InvalidDataset(f"{f.file_id}: not valid JSON: {e}") from None
        for i, v in enumerate(doc if isinstance(doc, list) else [doc]):
            yield i + 1, v
    else:
        try:
            import yaml  # PyYAML: Debian's python3-yaml
        except ImportError:
            raise InvalidDataset(f"{f.file_id}: YAML datasets need PyYAML (apt-get install python3-yaml)") from None
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as e:
            raise InvalidDataset(f"{f.file_id}: not valid YAML: {e}") from None
        i = 0
        for d in docs:
            for v in d if isinstance(d, list) else ([] if d is None else [d]):
                i += 1
                yield i, v


def read_examples(files: list[DataFile], require_outputs: bool = True) -> list[SftExample]:
    """Every example of the files, in order; the first problem raises InvalidDataset."""
    out: list[SftExample] = []
    for f in files:
        with open(f.path, "r", encoding="utf-8-sig") as fh:
            text = fh.read()
        count = 0
        for n, value in _values(f, text):
            count += 1
            try:
                out.append(check_example(value, require_outputs))
            except ValueError as e:
                raise InvalidDataset(f"{f.file_id} (line {n}): example {count}: {e}") from None
        if count == 0:
            raise InvalidDataset(f"{f.file_id}: the file holds no examples")
    return out


def example_from_predict(value: Any, position: int) -> SftExample:
    """A predict input: a dataset-shaped example (outputs optional) or a bare string."""
    if isinstance(value, str):
        return SftExample(value, None)
    try:
        return check_example(value, require_outputs=False)
    except ValueError as e:
        raise InvalidDataset(f"example {position}: {e}") from None
