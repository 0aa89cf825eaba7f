"""CSV and TSV files: sniff the delimiter and the header, parse with pandas, give every column a role.

Roles: numeric columns are features; `sequence_column` splits rows into sequences; one column may be the
time index (named by `time_column`, or found: the only non-numeric column, when it holds dates/times);
any other non-numeric column is an error unless `columns` leaves it out. Rows are reported as the line
numbers an editor shows (1-based, the header is row 1); they are worked out only when a message needs
them, so a clean file costs one pandas parse and one pass over its numbers.

pandas' C engine is used: on this workload pyarrow's engine is no faster and types columns differently.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import LabError
from .table import BOM, Table, check_limits, decode_utf8, head_bytes, undecodable

_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 1 << 16
_SAMPLE_LINES = 30
# pandas' default missing-value markers: such a cell is "empty" when guessing whether row 1 is a header.
_NA = frozenset(("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                 "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"))
_QUOTED = re.compile(r'"[^"]*"')
_TIME = r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?"
_ZONE = r"\s*(Z|[+-]\d{2}:?\d{2})?"
_DATE = re.compile(rf"\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}([ T]{_TIME})?{_ZONE}|{_TIME}")
_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def read_csv(data: bytes | Path, source: str, options, default_delimiter: str) -> Table:
    """Parse a CSV/TSV file (bytes or a path, size already checked) into a Table."""
    head = head_bytes(data, _SAMPLE_BYTES)
    notes = []
    skip = 0
    if head.startswith(BOM):
        notes.append("removed a UTF-8 byte-order mark")
        skip = len(BOM)
    nul = (data if isinstance(data, bytes) else head).find(b"\x00")
    if nul >= 0:
        raise LabError(f"byte {nul} is 0x00 (NUL): this is a binary file, not delimited text")
    lines = _sample_lines(head, skip, complete=len(head) == _size(data))
    if not lines:
        raise LabError("the file contains no data (only blank lines)")
    delimiter = _sniff_delimiter(lines, default_delimiter)
    if delimiter != default_delimiter:
        notes.append(f"delimiter {delimiter!r}")
    header = _sniff_header(lines, delimiter)
    notes.append("header detected" if header else "no header: columns are named col0, col1, ...")
    df, dropped = _parse(data, delimiter, header)
    records = _Records(data, delimiter, header, len(df))
    if dropped:  # pandas dropped the extra fields of rows longer than the header: find the first
        rows = np.flatnonzero(records.fields(np.arange(len(df))) != df.shape[1])
        got = records.fields(rows[:1])[0] if rows.size else "more"
        line = records.lines(rows[:1])[0] if rows.size else "?"
        like = "the header" if header else "row 1"
        raise LabError(f"row {line}: expected {df.shape[1]} fields (like {like}), got {got}")
    if header:
        names = [str(c).strip() for c in df.columns]
        if len(set(names)) == len(names):
            df.columns = names
        if len(df) == 0:
            raise LabError(f"the file has a header ({', '.join(map(str, df.columns))}) but no data rows")
    else:
        df.columns = [f"col{i}" for i in range(df.shape[1])]
    return _table(df, records, options, notes)


def _size(data) -> int:
    return len(data) if isinstance(data, bytes) else data.stat().st_size


def _sample_lines(head: bytes, skip: int, complete: bool) -> list[str]:
    """The first non-blank lines, decoded; a bad byte in them is reported now, exactly."""
    body = head if complete else head[: head.rfind(b"\n") + 1] or head
    try:
        text = body[skip:].decode("utf-8")
    except UnicodeDecodeError as e:
        if complete or e.start < len(body) - skip - 4:
            raise undecodable(head, e.start + skip) from None
        text = body[skip:].decode("utf-8", errors="ignore")  # one long line cut mid-character
    return [ln for ln in text.splitlines() if ln.strip()][:_SAMPLE_LINES]


def _sniff_delimiter(lines: list[str], default: str) -> str:
    """The delimiter found the same nonzero number of times on every sampled line (quotes ignored)."""
    bare = [_QUOTED.sub("", ln) for ln in lines]
    order = (default,) + tuple(d for d in _DELIMITERS if d != default)
    counts = {d: [ln.count(d) for ln in bare] for d in order}
    steady = [d for d in order if counts[d][0] > 0 and len(set(counts[d])) == 1]
    if steady:
        return max(steady, key=lambda d: counts[d][0])  # max keeps the first of equals: the default
    first = max(order, key=lambda d: counts[d][0])
    return first if counts[first][0] > 0 else default


def _kind(value: str) -> str:
    s = value.strip()
    if s in _NA:
        return "empty"
    try:
        float(s)
        return "number"
    except ValueError:
        return "date" if _DATE.fullmatch(s) else "word"


def _sniff_header(lines: list[str], delimiter: str) -> bool:
    """Row 1 is a header when it has a word above a column of numbers or dates (or is alone, all words)."""
    rows = list(csv.reader(lines, delimiter=delimiter))
    first = [_kind(v) for v in rows[0]]
    if "word" not in first:
        return False
    if len(rows) == 1:
        return all(k in ("word", "empty") for k in first)
    for j, k in enumerate(first):
        below = [_kind(r[j]) for r in rows[1:] if j < len(r)]
        below = [b for b in below if b != "empty"]
        if k == "word" and below and 2 * below.count("word") < len(below):  # a stray bad cell is no header
            return True
    return False


def _parse(data, delimiter: str, header: bool) -> tuple[pd.DataFrame, bool]:
    """The frame, and whether pandas dropped fields of rows longer than the header (it only warns)."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            df = pd.read_csv(source, sep=delimiter, header=0 if header else None, index_col=False)
        return df, any(issubclass(w.category, pd.errors.ParserWarning) for w in caught)
    except pd.errors.EmptyDataError:
        raise LabError("the file contains no data (only blank lines)") from None
    except pd.errors.ParserError as e:
        m = _RAGGED.search(str(e))
        if m:
            expected, line, got = m.groups()
            like = "the header" if header else "row 1"
            raise LabError(f"row {line}: expected {expected} fields (like {like}), got {got}") from e
        m = _OPEN_QUOTE.search(str(e))
        if m:  # pandas counts this row from 0
            raise LabError(f'row {int(m.group(1)) + 1}: a quoted field starts here and is never closed '
                           '(a stray " ?)') from e
        raise LabError(f"could not parse the file as delimited text: {str(e).strip()}") from e
    except UnicodeDecodeError:
        raw = data if isinstance(data, bytes) else data.read_bytes()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise undecodable(raw, e.start) from None
        raise LabError("the file is not valid UTF-8 text; save it as UTF-8") from None


class _Records:
    """File line and field count of every data row, read with the csv module when a message needs them."""

    def __init__(self, data, delimiter: str, header: bool, n_rows: int):
        self.data, self.delimiter, self.header, self.n_rows = data, delimiter, header, n_rows
        self._lines = self._fields = None

    def _load(self):
        raw = self.data if isinstance(self.data, bytes) else self.data.read_bytes()
        text = decode_utf8(raw.removeprefix(BOM))
        lines, fields, previous = [], [], 0
        try:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
            for record in reader:
                start, previous = previous + 1, reader.line_num
                if record and not (len(record) == 1 and not record[0].strip()):
                    lines.append(start)
                    fields.append(len(record))
        except csv.Error:
            lines = []
        lines, fields = lines[self.header:], fields[self.header:]
        if len(lines) != self.n_rows:  # the csv module read the file differently: count rows instead
            lines, fields = list(range(1 + self.header, self.n_rows + 1 + self.header)), [0] * self.n_rows
        self._lines, self._fields = np.array(lines), np.array(fields)

    def lines(self, rows: np.ndarray) -> np.ndarray:
        if self._lines is None:
            self._load()
        return self._lines[rows]

    def fields(self, rows: np.ndarray) -> np.ndarray:
        if self._fields is None:
            self._load()
        return self._fields[rows]


def _is_dates(col: pd.Series) -> bool:
    s = col.dropna().astype(str).str.strip()
    if s.empty or not s.str.fullmatch(_DATE).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bool(pd.to_datetime(s, errors="coerce", format="mixed").notna().all())


def _not_a_number(df: pd.DataFrame, name: str, records: _Records, hint: str = "") -> LabError:
    col = df[name]
    bad = (pd.to_numeric(col, errors="coerce").isna() & col.notna()).to_numpy()
    i = int(np.argmax(bad))
    value = str(col.iloc[i])
    if not hint and bad.sum() > col.notna().sum() / 2:
        hint = f" (column {name!r} holds text: leave it out with the columns option)"
    if _DECIMAL_COMMA.fullmatch(value.strip()):
        hint = " (write decimals with a point: decimal commas are not supported)"
    row = records.lines(np.array([i]))[0]
    return LabError(f"row {row}, column {name!r}: {value!r} is not a number{hint}")


def _table(df: pd.DataFrame, records: _Records, options, notes: list[str]) -> Table:
    names = list(df.columns)

    def need(col, what):
        if col not in names:
            raise LabError(f"{what} {col!r} not found; the file has columns {', '.join(map(str, names))}")

    seq_col = options.sequence_column if options.sequence_column in names else None
    time_col = options.time_column
    if time_col is not None:
        need(time_col, "time_column")
    numeric = [n for n in names if n not in (seq_col, time_col) and df[n].dtype.kind in "fiub"]
    other = [n for n in names if n not in (seq_col, time_col) and n not in numeric]
    dates = [n for n in other if _is_dates(df[n])]
    if options.columns is not None:
        for c in options.columns:
            need(c, "column")
            if c in (time_col, seq_col):
                role = "time index" if c == time_col else "sequence id column"
                raise LabError(f"column {c!r} is the {role}; it cannot also be a feature")
        features = list(options.columns)
    else:
        features = numeric
        for n in other:
            if n not in dates:
                raise _not_a_number(df, n, records)
    for n in features:
        if n not in numeric:
            hint = f" (column {n!r} holds dates: use it as time_column)" if n in dates else ""
            raise _not_a_number(df, n, records, hint)
    if time_col is None and len(other) == 1 and dates == other and other[0] not in features:
        time_col = other[0]
        notes.append(f"column {time_col!r} (dates) used as the time index")
    elif time_col is not None:
        notes.append(f"column {time_col!r}{' (dates)' * (time_col in dates)} used as the time index")
    for n in dates:
        if n != time_col and n not in features:
            notes.append(f"column {n!r} (dates) left out")
    if not features:
        kept = f"; column {time_col!r} is the time index" if time_col else ""
        raise LabError(f"the file has no numeric column to use as a feature{kept}")
    for n in features:
        if df[n].dtype.kind == "b":
            notes.append(f"column {n!r}: true/false read as 1/0")

    values = df[features].to_numpy(dtype=np.float64)  # a view when pandas parsed one float64 block
    time = df[time_col].to_numpy() if time_col is not None else None
    order = None
    if seq_col is not None:
        ids = df[seq_col]
        empty = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
        if empty.any():
            line = records.lines(np.flatnonzero(empty)[:1])[0]
            raise LabError(f"row {line}: column {seq_col!r} is empty; every row needs a sequence id")
        codes, uniques = pd.factorize(ids, sort=False)  # ids in order of first appearance
        lengths = np.bincount(codes).astype(np.int64)
        check_limits(lengths, len(features), options, label=lambda b: f"sequence {str(uniques[b])!r}")
        order = np.argsort(codes, kind="stable")
        values = values[order]
        time = time[order] if time is not None else None
        sequence_ids = tuple(str(u) for u in uniques)
        notes.append(f"column {seq_col!r} split the rows into {len(lengths)} sequences")
    else:
        lengths = np.array([len(df)], dtype=np.int64)
        sequence_ids = ("0",)

    def place(rows: np.ndarray) -> list[str]:
        return [f"row {n}" for n in records.lines(order[rows] if order is not None else rows)]

    def on_missing(rows: np.ndarray) -> None:
        file_rows = order[rows] if order is not None else rows
        short = np.flatnonzero((records.fields(file_rows) < df.shape[1]) & (records.fields(file_rows) > 0))
        if short.size:
            r = file_rows[short[0]]
            like = "the header" if records.header else "row 1"
            raise LabError(f"row {records.lines(np.array([r]))[0]}: expected {df.shape[1]} fields (like "
                           f"{like}), got {records.fields(np.array([r]))[0]}")

    return Table(values, lengths, tuple(features), sequence_ids, place=place, feature_word="column",
                 time=time, notes=notes, numeric_columns=tuple(numeric), on_missing=on_missing)
