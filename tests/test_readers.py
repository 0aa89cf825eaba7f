"""Readers: valid files of every format against arrays written by hand, a corpus of broken files with
pinned messages, the shipped samples, and hypothesis showing that any input is either a valid
ReadResult or a LabError."""

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lstm_core import csv_text, load_model, readers
from lstm_core.errors import LabError
from lstm_core.limits import MAX_EXPORT_ROWS, MAX_STEPS
from lstm_core.readers import (
    FORMATS,
    NAN_POLICIES,
    ReadOptions,
    ReadResult,
    pad_sequences,
    read_sequences,
    unpad,
)
from lstm_core.readers import table as _table

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assets" / "sequences"
BOM = b"\xef\xbb\xbf"


def read(content, name="data.csv", **options) -> ReadResult:
    data = content.encode() if isinstance(content, str) else content
    return read_sequences(data, name, ReadOptions(**options))


def npy(a, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def npy_header(shape, dtype="<f2") -> bytes:
    """The start of a .npy file promising `shape`: magic and header, the data is up to the caller."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def assert_valid(r: ReadResult) -> None:
    """What every successful read promises, whatever the file."""
    B, T, F = r.x.shape
    assert r.x.dtype == np.float32 and min(B, T, F) >= 1
    assert np.isfinite(r.x).all() and np.isfinite(r.raw).all()
    assert r.lengths.dtype == np.int64 and r.lengths.shape == (B,)
    assert r.lengths.min() >= 1 and r.lengths.max() == T
    mask = np.arange(T) < r.lengths[:, None]
    np.testing.assert_array_equal(r.mask, mask)
    assert not r.x[~mask].any() and not r.raw[~mask].any()
    assert r.raw.shape == r.x.shape and r.batch_size == B
    assert len(r.sequence_ids) == B and len(r.feature_names) == F
    assert r.format in ("csv", "tsv", "npy", "npz", "json", "text")


def read_or_refuse(data: bytes, name: str, options: ReadOptions | None = None) -> ReadResult | None:
    """A valid result or a LabError from a planned check (never the catch-all for unforeseen errors)."""
    try:
        r = read_sequences(data, name, options or ReadOptions())
    except LabError as e:
        assert "unexpected error" not in str(e), str(e)
        return None
    assert_valid(r)
    return r


# ---------------------------------------------------------------------------------------------- CSV / TSV


def test_csv_with_header():
    r = read("a,b\n1,2\n3,4.5\n-1e3,0\n")
    np.testing.assert_array_equal(r.x, [[[1, 2], [3, 4.5], [-1000, 0]]])
    np.testing.assert_array_equal(r.lengths, [3])
    assert (r.feature_names, r.sequence_ids, r.format, r.source) == (("a", "b"), ("0",), "csv", "data.csv")
    assert r.notes == ("header detected",)
    assert r.normalisation is None and r.time_index is None and r.vocab is None
    assert r.raw is r.x  # nothing normalised: no copy


def test_csv_without_header_names_columns_col0_col1():
    r = read("1,2\n3,4\n")
    np.testing.assert_array_equal(r.x, [[[1, 2], [3, 4]]])
    assert r.feature_names == ("col0", "col1")
    assert r.notes == ("no header: columns are named col0, col1, ...",)


def test_semicolons_bom_and_windows_line_endings():
    r = read(BOM + b"a;b\r\n1;2\r\n3;4\r\n")
    np.testing.assert_array_equal(r.x, [[[1, 2], [3, 4]]])
    assert r.notes == ("removed a UTF-8 byte-order mark", "delimiter ';'", "header detected")


@pytest.mark.parametrize("text, name, note", [
    ("a\tb\n1\t2\n", "data.tsv", None),  # the extension's own delimiter is not worth a note
    ("a|b\n1|2\n", "data.csv", "delimiter '|'"),
    ("a\tb\n1\t2\n", "data.csv", "delimiter '\\t'"),
    ("a,b\n1,2\n", "data.tsv", "delimiter ','"),
])
def test_other_delimiters(text, name, note):
    r = read(text, name)
    np.testing.assert_array_equal(r.x, [[[1, 2]]])
    assert r.format == name[-3:]
    assert [n for n in r.notes if n.startswith("delimiter")] == ([note] if note else [])


def test_quoted_fields_and_spaces():
    r = read('"a","b"\n"1", 2.5\n 3 ,4\n')
    np.testing.assert_array_equal(r.x, [[[1, 2.5], [3, 4]]])
    assert r.feature_names == ("a", "b")


def test_date_column_becomes_the_time_index():
    r = read("timestamp,y,z\n2024-01-01 00:00:00,1,2\n2024-01-01 00:00:30,3,4\n")
    np.testing.assert_array_equal(r.x, [[[1, 2], [3, 4]]])
    assert r.feature_names == ("y", "z")
    assert list(r.time_index) == ["2024-01-01 00:00:00", "2024-01-01 00:00:30"]
    assert "column 'timestamp' (dates) used as the time index" in r.notes


def test_numeric_time_column_by_name():
    r = read("t,y\n0.0,5\n0.5,6\n", time_column="t")
    np.testing.assert_array_equal(r.x, [[[5], [6]]])
    np.testing.assert_array_equal(r.time_index, [0.0, 0.5])
    assert "column 't' used as the time index" in r.notes


def test_two_date_columns_are_left_out_unless_one_is_named():
    text = "start,end,y\n2024-01-01,2024-02-01,1\n2024-01-02,2024-02-02,2\n"
    r = read(text)
    assert r.time_index is None and r.feature_names == ("y",)
    assert "column 'start' (dates) left out" in r.notes and "column 'end' (dates) left out" in r.notes
    r = read(text, time_column="end")
    assert list(r.time_index) == ["2024-02-01", "2024-02-02"]
    assert "column 'start' (dates) left out" in r.notes


MISSING = "a,b\n1,10\n,20\n3,\n4,40\n"  # row 3 misses a, row 4 misses b


def test_missing_values_dropped():
    r = read(MISSING, nan_policy="drop")
    np.testing.assert_array_equal(r.x, [[[1, 10], [4, 40]]])
    assert "dropped 2 steps with missing values (rows 3, 4)" in r.notes


def test_missing_values_forward_filled():
    r = read(MISSING, nan_policy="ffill")
    np.testing.assert_array_equal(r.x, [[[1, 10], [1, 20], [3, 20], [4, 40]]])
    assert "forward-filled 1 missing value in column 'a' (row 3)" in r.notes
    assert "forward-filled 1 missing value in column 'b' (row 4)" in r.notes


def test_leading_missing_value_takes_the_first_value_after_it():
    r = read("a,b\n,1\nNaN,2\n7,3\n", nan_policy="ffill")
    np.testing.assert_array_equal(r.x[0, :, 0], [7, 7, 7])
    assert r.notes[-1] == ("forward-filled 2 missing values in column 'a' (rows 2, 3); "
                           "2 at the start took the first value after them")


def test_sequence_id_splits_rows_in_order_of_first_appearance():
    r = read("sequence_id,v\nb,1\na,10\nb,2\nb,3\na,20\nc,100\n")
    assert r.sequence_ids == ("b", "a", "c")
    np.testing.assert_array_equal(r.lengths, [3, 2, 1])
    np.testing.assert_array_equal(r.x[..., 0], [[1, 2, 3], [10, 20, 0], [100, 0, 0]])
    assert "column 'sequence_id' split the rows into 3 sequences" in r.notes
    np.testing.assert_array_equal(r.sequence(1), [[10], [20]])


def test_forward_fill_stays_inside_each_sequence():
    r = read("sequence_id,v\na,1\nb,\nb,5\n", nan_policy="ffill")
    np.testing.assert_array_equal(r.x[..., 0], [[1, 0], [5, 5]])  # b's gap takes 5, not a's 1


def test_numeric_sequence_ids_become_strings():
    r = read("sequence_id,v\n7,1\n7,2\n3,5\n")
    assert r.sequence_ids == ("7", "3")


def test_columns_option_picks_features_and_skips_text():
    r = read("name,a,b,c\nx,1,2,3\ny,4,5,6\n", columns=("c", "a"))
    np.testing.assert_array_equal(r.x, [[[3, 1], [6, 4]]])
    assert r.feature_names == ("c", "a")


def test_boolean_column_reads_as_one_and_zero():
    r = read("flag,v\ntrue,1\nfalse,2\n")
    np.testing.assert_array_equal(r.x, [[[1, 1], [0, 2]]])
    assert "column 'flag': true/false read as 1/0" in r.notes


def test_blank_lines_are_skipped_but_counted_in_row_numbers():
    r = read("a\n1\n\n2\n")
    np.testing.assert_array_equal(r.x, [[[1], [2]]])
    with pytest.raises(LabError, match=r"^data.csv: row 6, column 'a': 'x' is not a number$"):
        read("a\n1\n\n2\n\nx\n")


def test_zscore_normalisation_on_real_steps_with_zero_padding():
    r = read("sequence_id,v\na,1\na,3\nb,5\n", normalise="zscore")
    s = np.sqrt(((1 - 3) ** 2 + 0 + (5 - 3) ** 2) / 3)
    np.testing.assert_allclose(r.x[..., 0], [[-2 / s, 0], [2 / s, 0]], rtol=1e-6)
    np.testing.assert_array_equal(r.raw[..., 0], [[1, 3], [5, 0]])
    np.testing.assert_allclose(r.normalisation.shift, [3])
    assert r.normalisation.feature_names == ("v",)
    assert "normalised each feature (zscore) with this file's own values" in r.notes


def test_expected_features_that_match_pass():
    assert read("a,b\n1,2\n", expected_features=2).x.shape == (1, 1, 2)


def test_paths_and_the_name_overriding_the_extension(tmp_path):
    path = tmp_path / "seq.txt"
    path.write_bytes(b"a,b\n1,2\n")
    r = read_sequences(path, name="seq.csv")
    np.testing.assert_array_equal(r.x, [[[1, 2]]])
    assert r.source == "seq.csv"
    r = read_sequences(str(path))  # a .txt is text: 8 characters, one-hot
    assert (r.format, r.source, r.x.shape) == ("text", "seq.txt", (1, 8, 6))


# ----------------------------------------------------------------------------------------- .npy and .npz


def test_npy_one_dimensional():
    r = read(npy(np.array([1.0, 2.0, 3.0])), "walk.npy")
    np.testing.assert_array_equal(r.x, [[[1], [2], [3]]])
    assert (r.feature_names, r.format) == (("x0",), "npy")


def test_npy_two_and_three_dimensional_integers():
    r = read(npy(np.array([[1, 2], [3, 4], [5, 6]], dtype=np.int16)), "a.npy")
    np.testing.assert_array_equal(r.x, [[[1, 2], [3, 4], [5, 6]]])
    r = read(npy(np.arange(12).reshape(2, 3, 2)), "a.npy")
    np.testing.assert_array_equal(r.x, [[[0, 1], [2, 3], [4, 5]], [[6, 7], [8, 9], [10, 11]]])
    np.testing.assert_array_equal(r.lengths, [3, 3])
    assert r.sequence_ids == ("0", "1")


@pytest.mark.parametrize("dtype", ["<f2", ">f8", "u1", "<i8"])
def test_npy_other_numeric_dtypes(dtype):
    r = read(npy(np.array([1, 2, 3], dtype=dtype)), "a.npy")
    np.testing.assert_array_equal(r.x[0, :, 0], [1, 2, 3])


def test_npy_fortran_order_and_big_endian_read_as_written():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7
    for b in (np.asfortranarray(a), a.astype(">f8"), np.asfortranarray(a.astype(">f4"))):
        r = read(npy(b), "a.npy")
        np.testing.assert_array_equal(r.x, a.astype(np.float32))
        assert r.x.flags.writeable and r.x.flags.c_contiguous


def test_a_big_float16_npy_is_converted_once_and_never_copied():
    """The upload that was slow: (1, 100000, 64) float16, 12.8 MB. Reading it may hold the float32 result
    (25.6 MB) and little else: the data is not copied before conversion, nor checked through a
    boolean array as large as the result."""
    import tracemalloc

    a = np.random.default_rng(0).standard_normal((1, 100_000, 64)).astype(np.float16)
    data = npy(a)
    read_sequences(data, "warm.npy")
    tracemalloc.start()
    try:
        r = read_sequences(data, "big.npy")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.x.shape == (1, 100_000, 64) and r.x.flags.writeable
    np.testing.assert_array_equal(r.x, a.astype(np.float32))
    assert peak < 1.1 * r.x.nbytes, f"peak {peak / 2**20:.1f} MiB for a {r.x.nbytes / 2**20:.1f} MiB result"


def test_a_float32_npy_result_is_writable_and_not_the_uploaded_bytes():
    data = npy(np.ones((5, 2), np.float32))
    r = read(data, "a.npy")
    r.x[0, 0, 0] = 7.0  # the caller owns its result
    assert read(data, "a.npy").x[0, 0, 0] == 1.0


def test_the_default_step_limit_is_max_steps():
    assert ReadOptions().max_steps == MAX_STEPS == 100_000
    assert read(npy(np.zeros(MAX_STEPS, np.float16)), "a.npy").x.shape == (1, 100_000, 1)


def test_npy_booleans_read_as_one_and_zero():
    r = read(npy(np.array([True, False, True])), "a.npy")
    np.testing.assert_array_equal(r.x[0, :, 0], [1, 0, 1])
    assert r.notes == ("the array: true/false read as 1/0",)


def test_npy_forward_fill_names_sequences_and_steps():
    a = np.array([[1, np.nan, 3], [np.nan, 5, 6]])[..., None]
    r = read(npy(a), "a.npy", nan_policy="ffill")
    np.testing.assert_array_equal(r.x[..., 0], [[1, 1, 3], [5, 5, 6]])
    assert r.notes == ("forward-filled 2 missing values in feature 0 (sequence 0, step 1; sequence 1, "
                       "step 0); 1 at the start took the first value after them",)


def test_npz_single_array():
    r = read(npz(walk=np.array([1.0, 2.0])), "a.npz")
    np.testing.assert_array_equal(r.x, [[[1], [2]]])
    assert r.notes == ("read array 'walk'",) and r.format == "npz"


def test_npz_x_and_lengths_ignore_whatever_is_past_each_length():
    x = np.full((2, 3, 1), np.nan)
    x[0, :, 0] = [1, 2, 3]
    x[1, :1, 0] = [4]
    r = read(npz(x=x, lengths=np.array([3, 1]), feature_names=np.array(["v"]),
                 sequence_ids=np.array(["p", "q"])), "a.npz")
    np.testing.assert_array_equal(r.x[..., 0], [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(r.lengths, [3, 1])
    assert (r.feature_names, r.sequence_ids) == (("v",), ("p", "q"))


def test_npz_one_array_per_sequence():
    r = read(npz(first=np.array([1.0, 2.0, 3.0]), second=np.array([[4.0]])), "a.npz")
    np.testing.assert_array_equal(r.x[..., 0], [[1, 2, 3], [4, 0, 0]])
    assert r.sequence_ids == ("first", "second")


# --------------------------------------------------------------------------------------------------- JSON


def test_json_list_of_numbers_is_one_sequence_of_one_feature():
    r = read("[1, 2.5, -3]", "a.json")
    np.testing.assert_array_equal(r.x, [[[1], [2.5], [-3]]])
    assert (r.format, r.feature_names) == ("json", ("x0",))


def test_json_list_of_lists_is_one_sequence_of_steps():
    r = read("[[1, 2], [3, 4], [5, 6]]", "a.json")
    np.testing.assert_array_equal(r.x, [[[1, 2], [3, 4], [5, 6]]])


def test_json_three_levels_are_many_sequences():
    r = read("[[[1, 2], [3, 4]], [[5, 6]]]", "a.json")
    np.testing.assert_array_equal(r.x, [[[1, 2], [3, 4]], [[5, 6], [0, 0]]])
    np.testing.assert_array_equal(r.lengths, [2, 1])


def test_json_object_with_names_and_ids():
    r = read(BOM + b'{"sequences": [[1, 2, 3], [4]], "feature_names": ["v"], "sequence_ids": ["p", "q"]}',
             "a.json")
    np.testing.assert_array_equal(r.x[..., 0], [[1, 2, 3], [4, 0, 0]])
    assert (r.feature_names, r.sequence_ids) == (("v",), ("p", "q"))
    assert r.notes == ("removed a UTF-8 byte-order mark",)


def test_json_nan_dropped():
    r = read("[1, NaN, 3]", "a.json", nan_policy="drop")
    np.testing.assert_array_equal(r.x[0, :, 0], [1, 3])
    assert r.notes == ("dropped 1 step with missing values (step 1)",)


# --------------------------------------------------------------------------------------------------- text


def test_text_builds_a_sorted_vocabulary():
    r = read("abca", "a.txt")
    assert r.vocab == ("a", "b", "c") == r.feature_names and r.format == "text"
    np.testing.assert_array_equal(r.x, [[[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]])
    assert r.notes[0] == "built a vocabulary of the text's 3 distinct characters"


def test_text_with_the_models_vocabulary_and_pieces():
    r = read("abcabca", "a.txt", vocab=("c", "b", "a"), text_length=3)
    np.testing.assert_array_equal(r.lengths, [3, 3, 1])
    np.testing.assert_array_equal(r.x[0], [[0, 0, 1], [0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(r.x[2], [[0, 0, 1], [0, 0, 0], [0, 0, 0]])
    assert r.sequence_ids == ("0", "1", "2")


def test_text_characters_outside_the_vocabulary_are_all_zero_steps_with_a_note():
    r = read(b"abc\nzab", "a.txt", vocab=tuple("abc\n"))
    np.testing.assert_array_equal(r.x[0], [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1],
                                           [0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    assert "1 character not in the model's vocabulary was fed as all-zero inputs: 'z' (line 2, column 1)" in r.notes
    r = read("añb\nçdaañ".encode(), "a.txt", vocab=tuple("ab"))
    np.testing.assert_array_equal(r.x[0].sum(axis=1), [1, 0, 1, 0, 0, 0, 1, 1, 0])
    assert r.notes[-1] == ("5 characters not in the model's vocabulary were fed as all-zero inputs: "
                           "'ñ' (line 1, column 2, 2 times), '\\n' (line 1, column 4), 'ç' (line 2, column 1), "
                           "'d' (line 2, column 2)")
    r = read("0123456789", "a.txt", vocab=("a",))
    assert not r.x.any() and r.notes[-1].startswith("10 characters not in the model's vocabulary were fed as "
                                                    "all-zero inputs: '0' (line 1, column 1), '1' (line 1, column 2)")
    assert r.notes[-1].endswith("'4' (line 1, column 5) and 5 more")


def test_the_gettysburg_sample_reads_with_the_charlm_vocabulary():
    vocab = load_model(ROOT / "assets" / "models" / "charlm-lstm.npz").vocab
    text = (SAMPLES / "gettysburg.txt").read_text(encoding="utf-8")
    r = read_sequences(SAMPLES / "gettysburg.txt", options=ReadOptions(vocab=vocab))
    assert r.x.shape == (1, len(text), len(vocab))
    unknown = [i for i, c in enumerate(text) if c not in vocab]
    assert {text[i] for i in unknown} == {"—"} and not r.x[0, unknown].any()
    assert (r.x[0].sum(axis=1) == 1).sum() == len(text) - len(unknown)
    line = text.count("\n", 0, unknown[0]) + 1
    column = unknown[0] - text.rfind("\n", 0, unknown[0])
    assert (f"{len(unknown)} characters not in the model's vocabulary were fed as all-zero inputs: '—' "
            f"(line {line}, column {column}, {len(unknown)} times)") in r.notes


def test_text_windows_line_endings_and_non_ascii():
    r = read(BOM + "é\r\n—".encode(), "a.txt")
    assert r.vocab == ("\n", "é", "—")
    assert "converted Windows line endings to \\n" in r.notes and "removed a UTF-8 byte-order mark" in r.notes


# ---------------------------------------------------------------------------------- results and padding


def test_to_frame_is_long_and_tidy():
    r = read("sequence_id,u,v\na,1,2\nb,3,4\na,5,6\n")
    expected = pd.DataFrame({"sequence_id": ["a", "a", "b"], "step": [0, 1, 0],
                             "u": np.array([1, 5, 3], np.float32), "v": np.array([2, 6, 4], np.float32)})
    pd.testing.assert_frame_equal(r.to_frame(), expected)
    pd.testing.assert_frame_equal(r.to_frame(raw=True), expected)


def test_to_csv_bytes_reads_back_as_to_frame_and_matches_pandas_byte_for_byte():
    text = 'sequence_id,"a,b","say ""hi""",c\nx,1,2,3\nx,1e-7,-0.0,4\n"y,1",5,6,1e30\nz,0.1,2.5,-7\n'
    r = read(text, nan_policy="ffill", normalise="zscore")
    assert r.feature_names == ("a,b", 'say "hi"', "c") and r.sequence_ids == ("x", "y,1", "z")
    for raw in (False, True):
        data = r.to_csv_bytes(raw=raw)
        frame = r.to_frame(raw=raw)
        back = pd.read_csv(io.BytesIO(data), dtype={n: np.float32 for n in r.feature_names} | {"sequence_id": str})
        pd.testing.assert_frame_equal(back, frame, check_dtype=False)
        np.testing.assert_array_equal(back[list(r.feature_names)].to_numpy(), frame[list(r.feature_names)].to_numpy())
        assert data == frame.to_csv(index=False).encode()


def test_to_csv_bytes_refuses_more_rows_than_max_rows():
    r = read("v\n" + "1\n" * 12)
    assert len(r.to_csv_bytes(max_rows=12).splitlines()) == 13
    with pytest.raises(LabError, match=r"^data\.csv: a CSV of every step would have 12 rows; the limit is 11 rows "
                                       r"\(max_rows\)$"):
        r.to_csv_bytes(max_rows=11)
    assert MAX_EXPORT_ROWS == 2_000_000


def test_csv_numbers_write_every_float32_so_it_reads_back_exactly():
    bits = np.random.default_rng(0).integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    a = np.concatenate([bits.view(np.float32), np.array([0.0, -0.0, 1.0, 0.1, 3.4028235e38, 1e-45, np.nan],
                                                         np.float32)])
    data = csv_text.csv_rows([csv_text.csv_numbers(np.arange(len(a))), csv_text.csv_numbers(a)])
    back = pd.read_csv(io.BytesIO(b"i,v\n" + data), dtype={"i": np.int64, "v": np.float32})
    np.testing.assert_array_equal(back["i"], np.arange(len(a)))
    v, finite = back["v"].to_numpy(), np.isfinite(a)
    np.testing.assert_array_equal(v[finite].view(np.uint32), a[finite].view(np.uint32))  # bit for bit, -0.0 too
    assert np.isnan(v[np.isnan(a)]).all() and np.isnan(a).sum() > 100  # NaN is an empty field


def test_pad_sequences_by_hand_and_unpad():
    x, lengths = pad_sequences([np.array([[1.0], [2.0]]), np.array([3.0])])
    np.testing.assert_array_equal(x, [[[1], [2]], [[3], [0]]])
    np.testing.assert_array_equal(lengths, [2, 1])
    assert x.dtype == np.float32 and lengths.dtype == np.int64
    back = unpad(x, lengths)
    np.testing.assert_array_equal(back[0], [[1], [2]])
    np.testing.assert_array_equal(back[1], [[3]])


@pytest.mark.parametrize("seqs, message", [
    ([], r"pad_sequences needs at least one sequence"),
    ([np.zeros((2, 2)), np.zeros((2, 3))], r"sequence 1 must have shape \(T, 2\) with T >= 1; got \(2, 3\)"),
    ([np.zeros((0, 2))], r"sequence 0 must have shape \(T, 2\) with T >= 1; got \(0, 2\)"),
])
def test_pad_sequences_refuses(seqs, message):
    with pytest.raises(LabError, match=message):
        pad_sequences(seqs)


def test_unpad_refuses_mismatched_lengths():
    message = r"unpad needs x \(B, T, F\) and lengths \(B,\); got \(2, 3, 1\) and \(3,\)"
    with pytest.raises(LabError, match=message):
        unpad(np.zeros((2, 3, 1)), [1, 2, 3])


@settings(max_examples=100, deadline=None)
@given(st.lists(hnp.arrays(np.float32, st.tuples(st.integers(1, 6), st.just(3)),
                           elements=st.floats(-1e6, 1e6, width=32)), min_size=1, max_size=5))
def test_pad_then_unpad_round_trip(seqs):
    x, lengths = pad_sequences(seqs)
    assert x.shape == (len(seqs), max(len(s) for s in seqs), 3)
    for a, b in zip(unpad(x, lengths), seqs, strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------------------- the options


@pytest.mark.parametrize("options, message", [
    ({"nan_policy": "zero"}, r"unknown nan_policy 'zero'; choose one of refuse, drop, ffill"),
    ({"normalise": "l2"}, r"unknown normalisation 'l2'; choose one of none, zscore, minmax"),
    ({"max_steps": 0}, r"max_steps must be a whole number >= 1; got 0"),
    ({"text_length": 2.5}, r"text_length must be a whole number >= 1; got 2.5"),
    ({"columns": "a"}, r"columns must be a list of column names; got 'a'"),
    ({"columns": ()}, r"columns is empty; name at least one feature column"),
    ({"vocab": ("a", "bc")}, r"vocab must be a non-empty list of single characters"),
    ({"vocab": ("a", "a")}, r"vocab lists a character twice"),
])
def test_bad_options(options, message):
    with pytest.raises(LabError, match=message):
        ReadOptions(**options)


def test_registries_list_formats_and_policies():
    assert list(FORMATS) == [".csv", ".tsv", ".npy", ".npz", ".json", ".txt"]
    assert list(NAN_POLICIES) == ["refuse", "drop", "ffill"]


# --------------------------------------------------------------------------------- the bad-file corpus

class _Tripwire:
    """Unpickling this records it: proof that an object array was never unpickled."""

    def __reduce__(self):
        return (_tripped, ())


TRIPPED = []


def _tripped():
    TRIPPED.append(True)
    return 0.0


BAD = [  # (id, content, file name, options, message pinned as a regular expression)
    ("empty", b"", "a.csv", {},
     r"a.csv: the file is empty \(0 bytes\)$"),
    ("whitespace only", b" \n\t\n  ", "a.csv", {},
     r"the file contains only whitespace \(6 bytes\)$"),
    ("whitespace only json", b"\n\n", "a.json", {},
     r"the file contains only whitespace \(2 bytes\)$"),
    ("header only", b"a,b\n", "a.csv", {},
     r"the file has a header \(a, b\) but no data rows$"),
    ("non-numeric cell", b"a,b\n1,2\n3,oops\n4,5\n", "a.csv", {},
     r"row 3, column 'b': 'oops' is not a number$"),
    ("text column", b"name,v\ncat,1\ndog,2\n", "a.csv", {},
     r"row 2, column 'name': 'cat' is not a number \(column 'name' holds text: leave it out with the "),
    ("decimal comma", b"a;b\n1,5;2\n3;4\n", "a.csv", {},
     r"row 2, column 'a': '1,5' is not a number \(write decimals with a point: decimal commas are not "),
    ("nan refused", b"a,b\n1,2\n3,\n4,nan\n", "a.csv", {},
     r"row 3, column 'b': missing value \(one of 2 in the file\); set nan_policy to 'drop' to drop those "
     r"steps or 'ffill' to carry the previous value forward$"),
    ("nan refused in a sequence", b"sequence_id,v\na,1\nb,2\na,\n", "a.csv", {},
     r"row 4, column 'v': missing"),
    ("nan refused npy", npy(np.array([[1.0, 2.0], [np.nan, 3.0]])[None]), "a.npy", {},
     r"step 1, feature 0: missing value; set nan_policy"),
    ("infinity", b"a,b\n1,2\n-inf,3\n", "a.csv", {},
     r"row 3, column 'a': -inf is not a finite number"),
    ("infinity npy", npy(np.array([1.0, np.inf])), "a.npy", {},
     r"step 1, feature 0: inf is not a finite number"),
    ("beyond float32", b"a\n1\n1e39\n", "a.csv", {},
     r"row 3, column 'a': 1e\+39 is too large for float32 \(largest is 3.4e\+38\)"),
    ("too many fields", b"a,b\n1,2\n3,4,5\n", "a.csv", {},
     r"row 3: expected 2 fields \(like the header\), got 3$"),
    ("too few fields", b"a,b\n1,2\n3\n", "a.csv", {},
     r"row 3: expected 2 fields \(like the header\), got 1$"),
    ("too few fields headerless", b"1,2\n3,4\n\n5\n", "a.csv", {"nan_policy": "ffill"},
     r"row 4: expected 2 fields \(like row 1\), got 1$"),
    ("fields dropped by pandas", b"a,b\n1,2,3\n4,5,6\n", "a.csv", {},
     r"row 2: expected 2 fields \(like the header\), got 3$"),
    ("unclosed quote", b'a,b\n1,2\n3,"4\n5,6\n', "a.csv", {},
     r"row 3: a quoted field starts here and is never closed"),
    ("binary in csv", b"a,b\n1,\x00\n", "a.csv", {},
     r"byte 6 is 0x00 \(NUL\): this is a binary file"),
    ("npy rank 4", npy(np.zeros((2, 2, 2, 2))), "a.npy", {},
     r"the array has shape \(2, 2, 2, 2\); expected \(T,\), \(T, F\) or \(N, T, F\)$"),
    ("npy scalar", npy(np.float64(3.0)), "a.npy", {},
     r"the array has shape \(\); expected \(T,\)"),
    ("npy zero-length", npy(np.zeros((0, 3))), "a.npy", {},
     r"the array has shape \(0, 3\): zero-length sequences \(T = 0\)$"),
    ("npy no features", npy(np.zeros((2, 4, 0))), "a.npy", {},
     r"shape \(2, 4, 0\): no features \(F = 0\)$"),
    ("feature count, too few columns", b"a,b\n1,2\n", "a.csv", {"expected_features": 3},
     r"the model expects 3 input features; the file gives 2: it has only 2 numeric columns \('a', 'b'\)$"),
    ("feature count, choose columns", b"a,b,c\n1,2,3\n", "a.csv", {"expected_features": 2},
     r"the model expects 2 input features; the file gives 3 \('a', 'b', 'c'\); its numeric columns are "
     r"'a', 'b', 'c': choose 2 with the columns option$"),
    ("feature count npy", npy(np.zeros((3, 4))), "a.npy", {"expected_features": 8},
     r"the model expects 8 input features; the file gives 4$"),
    ("too long", b"v\n1\n2\n3\n4\n5\n", "a.csv", {"max_steps": 4},
     r"the sequence has 5 steps; the limit is 4 \(max_steps\)$"),
    ("too long, named", b"sequence_id,v\np,1\nq,2\nq,3\n", "a.csv", {"max_steps": 1},
     r"sequence 'q' has 2 steps; the limit is 1 \(max_steps\)$"),
    ("text too long", b"abcdef", "a.txt", {"max_steps": 5},
     r"the sequence has 6 steps; the limit is 5"),
    ("too many sequences", b"sequence_id,v\na,1\nb,2\nc,3\n", "a.csv", {"max_sequences": 2},
     r"the file has 3 sequences; the limit is 2 \(max_sequences\)$"),
    ("too many sequences json", b"[[[1]], [[2]], [[3]]]", "a.json", {"max_sequences": 2},
     r"the file has 3 sequences; the limit is 2"),
    ("over max_bytes", b"1\n" * 600, "a.csv", {"max_bytes": 1024},
     r"a.csv: the file is 0.0 MB; the limit is 0.0 MB \(max_bytes\)$"),
    ("undecodable csv", b"a,b\n1,2\n\xff,3\n", "a.csv", {},
     r"byte 8 \(line 3\) is 0xff, which is not valid UTF-8; save the file as UTF-8 text$"),
    ("undecodable text", b"abc\n\xe9t\xe9", "a.txt", {},
     r"byte 4 \(line 2\) is 0xe9, which is not valid UTF-8"),
    ("undecodable json", b'[1, "\xc3"]', "a.json", {},
     r"byte 5 \(line 1\) is 0xc3, which is not valid UTF-8"),
    ("unsupported extension", b"1,2\n", "table.xlsx", {},
     r"table.xlsx: unsupported file type '.xlsx'; supported: .csv, .tsv, .npy, .npz, .json, .txt$"),
    ("no extension", b"1,2\n", "README", {},
     r"unsupported file type '\(no extension\)'"),
    ("npy object dtype", npy(np.array([1.5, _Tripwire()], dtype=object), allow_pickle=True), "a.npy", {},
     r"the array holds Python objects \(dtype object\); loading them needs pickle, which is refused"),
    ("npz with a pickle", npz(x=np.array([_Tripwire()], dtype=object)), "a.npz", {},
     r"array 'x' holds Python objects \(dtype object\)"),
    ("npy corrupted header", b"\x93NUMPY\x01\x00\x10\x00{garbage}      \n", "a.npy", {},
     r"the array is not valid .npy data: "),
    ("npy not npy at all", b"hello there", "a.npy", {},
     r"the array is not valid .npy data: .*magic string"),
    ("npy truncated", npy(np.arange(10.0))[:-16], "a.npy", {},
     r"the array is truncated: its header promises shape \(10,\) of float64 \(80 bytes\), the file holds "
     r"64 bytes of data$"),
    ("npy version", b"\x93NUMPY\x09\x00" + b"x" * 20, "a.npy", {},
     r"has .npy format version 9.0; expected 1.0, 2.0 or 3.0$"),
    ("npy complex", npy(np.array([1 + 2j])), "a.npy", {},
     r"the array holds complex numbers \(complex128\)"),
    ("npy text", npy(np.array(["a", "b"])), "a.npy", {},
     r"the array has dtype <U1; expected numbers"),
    ("npy datetime", npy(np.array(["2024-01-01"], dtype="M8[D]")), "a.npy", {},
     r"has dtype datetime64\[D\]"),
    ("npy structured", npy(np.zeros(3, dtype=[("a", "f4"), ("b", "i4")])), "a.npy", {},
     r"the array is a structured array"),
    ("npz not a zip", b"PK\x03\x04garbage", "a.npz", {},
     r"not a valid .npz archive \(zip\)"),
    ("npz empty", npz(), "a.npz", {},
     r"the archive holds no arrays$"),
    ("npz stray member", None, "a.npz", {},
     r"the archive holds 'notes.txt', which is not a .npy array$"),
    ("npz text as data", npz(names=np.array(["a", "b"])), "a.npz", {},
     r"array 'names' has dtype <U1; expected numbers"),
    ("npz unexpected next to x", npz(x=np.zeros((2, 3, 1)), y=np.zeros(2)), "a.npz", {},
     r"unexpected array 'y' next to 'x'; allowed: x, lengths, feature_names, sequence_ids$"),
    ("npz lengths out of range", npz(x=np.zeros((2, 3, 1)), lengths=np.array([3, 9])), "a.npz", {},
     r"lengths\[1\] is 9; expected 1 to 3 \(the steps of 'x'\)$"),
    ("npz sequences of different widths", npz(a=np.zeros((3, 2)), b=np.zeros((3, 1))), "a.npz", {},
     r"array 'b' has 1 feature; expected 2 \(like 'a'\)$"),
    ("json syntax", b"[1, 2,\n 3 4]", "a.json", {},
     r"JSON syntax error at line 2, column 4: Expecting ',' delimiter$"),
    ("json dict without sequences", b'{"x": [1, 2]}', "a.json", {},
     r'a JSON object must have the key "sequences" \(and optionally "feature_names", "sequence_ids"\); '
     r"got keys 'x'$"),
    ("json nested strings", b'[[1, 2], ["a", 3]]', "a.json", {},
     r"step 1, feature 0: 'a' is not a number$"),
    ("json ragged inner lists", b"[[1, 2], [3]]", "a.json", {},
     r"step 1 has 1 feature; expected 2 \(like step 0\)$"),
    ("json boolean", b"[1, true]", "a.json", {},
     r"step 1: true is not a number \(write 1 or 0\)$"),
    ("json null", b'{"sequences": [[1], [2, null]]}', "a.json", {},
     r"sequence 1, step 1: null is not a number$"),
    ("json a number", b"3", "a.json", {},
     r"expected a list of numbers, a list of lists, .* got 3$"),
    ("json empty list", b"[]", "a.json", {},
     r"the JSON list is empty"),
    ("json empty sequence", b'{"sequences": [[1], []]}', "a.json", {},
     r"sequence 1 has no steps"),
    ("json empty step", b"[[]]", "a.json", {},
     r"step 0 is an empty list; expected the step's features$"),
    ("json feature widths differ", b"[[[1, 2]], [[3]]]", "a.json", {},
     r"sequence 1 has 1 feature per step; expected 2 \(like sequence 0\)$"),
    ("json huge integer", b"[1, 1" + b"0" * 400 + b"]", "a.json", {},
     r"holds an integer too large for a float"),
    ("json bad feature names", b'{"sequences": [[1]], "feature_names": ["a", "b"]}', "a.json", {},
     r'"feature_names" must be a list of 1 strings; got \["a", "b"\]$'),
    ("empty sequence ids", b"sequence_id,v\na,1\na,2\n,3\n", "a.csv", {},
     r"row 4: column 'sequence_id' is empty; every row needs a sequence id$"),
    ("empty column", b"a,b\n1,\n2,\n", "a.csv", {"nan_policy": "ffill"},
     r"column 'b' is empty: it has no value in any of its 2 rows$"),
    ("only a time column", b"t\n2024-01-01\n2024-01-02\n", "a.csv", {},
     r"the file has no numeric column to use as a feature; column 't' is the time index$"),
    ("drop empties a sequence", b"sequence_id,v\na,1\nb,\n", "a.csv", {"nan_policy": "drop"},
     r"sequence 'b' has no step left after dropping the steps with missing values"),
    ("nothing to fill from", b"sequence_id,v\na,1\nb,\n", "a.csv", {"nan_policy": "ffill"},
     r"sequence 'b': column 'v' has no value to fill from$"),
    ("unknown column", b"a,b\n1,2\n", "a.csv", {"columns": ("a", "z")},
     r"column 'z' not found; the file has columns a, b$"),
    ("unknown time column", b"a,b\n1,2\n", "a.csv", {"time_column": "t"},
     r"time_column 't' not found"),
    ("time column as feature", b"t,a\n1,2\n", "a.csv", {"time_column": "t", "columns": ("t", "a")},
     r"column 't' is the time index; it cannot also be a feature$"),
    ("dates as a feature", b"t,a\n2024-01-01,2\n", "a.csv", {"columns": ("t", "a")},
     r"row 2, column 't': '2024-01-01' is not a number \(column 't' holds dates: use it as time_column\)$"),
    ("text not UTF-8", b"abc\xff", "a.txt", {}, r"byte 3 \(line 1\) is 0xff, which is not valid UTF-8"),
    ("npy header beyond the limit", npy_header((1, 100_001, 1)) + bytes(200_002), "a.npy", {},
     r"the sequence has 100001 steps; the limit is 100000 \(max_steps\)$"),
]


def _stray_member_npz() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x.npy", npy(np.zeros(3)))
        z.writestr("notes.txt", "hello")
    return buf.getvalue()


@pytest.mark.parametrize("content, name, options, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_file(content, name, options, message):
    if content is None:
        content = _stray_member_npz()
    with pytest.raises(LabError, match=message) as caught:
        read_sequences(content, name, ReadOptions(**options))
    assert str(caught.value).startswith(f"{name}: ")
    assert "unexpected error" not in str(caught.value)
    assert not TRIPPED  # no pickle was ever loaded


def test_the_corpus_has_many_distinct_faults():
    messages = {b[4] for b in BAD}
    assert len(messages) == len(BAD) >= 25


def test_a_file_over_max_bytes_is_refused_before_parsing(monkeypatch, tmp_path):
    def parse(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setitem(readers.FORMATS, ".csv", dataclasses.replace(readers.FORMATS[".csv"], read=parse))
    monkeypatch.setattr(pd, "read_csv", parse)
    huge = b"1,2\n" * (13 * 2**18)  # 13 MB of perfectly good CSV
    with pytest.raises(LabError, match=r"^big.csv: the file is 13.0 MB; the limit is 10.0 MB \(max_bytes\)$"):
        read_sequences(huge, "big.csv", ReadOptions(max_bytes=10 * 2**20))
    path = tmp_path / "sparse.csv"
    with open(path, "wb") as f:
        f.truncate(60 * 2**20)  # 60 MB on paper, nothing on disk
    with pytest.raises(LabError, match=r"^sparse.csv: the file is 60.0 MB; the limit is 50.0 MB"):
        read_sequences(path)


def test_padding_beyond_the_memory_limit_is_refused_before_it_is_built(monkeypatch):
    monkeypatch.setattr(_table, "MAX_CELLS", 10)
    message = r"2 sequences padded to 3 steps x 2 features need 0 MB; the limit is 0 MB"
    with pytest.raises(LabError, match=message):
        read("sequence_id,a,b\np,1,2\np,3,4\np,5,6\nq,7,8\n")


def test_bytes_need_a_name_and_paths_must_exist(tmp_path):
    with pytest.raises(LabError, match=r"bytes need a file name \(name=...\) whose extension tells the"):
        read_sequences(b"1,2\n")
    with pytest.raises(LabError, match=r"^gone.csv: cannot read the file: No such file or directory$"):
        read_sequences(tmp_path / "gone.csv")
    with pytest.raises(LabError, match=r"data must be a file's bytes or a path; got int"):
        read_sequences(3, "a.csv")


# ------------------------------------------------------------------------------------- the shipped samples

GOOD_SAMPLES = {  # file -> (shape of x, options)
    "sine.csv": ((1, 200, 1), {}),
    "two_sines_semicolon.csv": ((1, 200, 2), {}),
    "sensor_with_timestamps.csv": ((1, 240, 3), {"nan_policy": "ffill"}),
    "many_sequences.csv": ((5, 80, 2), {}),
    "noheader.csv": ((1, 100, 3), {}),
    "steps.tsv": ((1, 120, 2), {}),
    "adding_problem.npy": ((4, 100, 2), {}),
    "random_walk.npy": ((1, 500, 1), {}),
    "variable_lengths.npz": ((3, 80, 1), {}),
    "spikes.json": ((3, 50, 1), {}),
    "sequence.json": ((1, 60, 1), {}),
    "gettysburg.txt": ((1, 1455, 37), {}),
}
BAD_SAMPLES = {
    "bad_ragged_rows.csv": r"row 7: expected 2 fields \(like the header\), got 3$",
    "bad_text_in_numbers.csv": r"row 4, column 'fast': 'n/a\?' is not a number$",
    "bad_complex.npy": r"the array holds complex numbers \(complex128\)",
}


def test_every_sample_is_tested_documented_and_small():
    files = {p.name for p in SAMPLES.iterdir() if p.suffix not in (".py", ".md")}
    assert files == set(GOOD_SAMPLES) | set(BAD_SAMPLES)
    readme = (SAMPLES / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files)
    assert all((SAMPLES / name).stat().st_size < 50_000 for name in files)


@pytest.mark.parametrize("name", GOOD_SAMPLES)
def test_good_sample_reads(name):
    shape, options = GOOD_SAMPLES[name]
    r = read_sequences(SAMPLES / name, options=ReadOptions(**options))
    assert_valid(r)
    assert r.x.shape == shape


def test_sample_details_match_the_readme():
    r = read_sequences(SAMPLES / "adding_problem.npy")
    np.testing.assert_array_equal(r.x[..., 1].sum(axis=1), [2, 2, 2, 2])  # two markers per sequence
    r = read_sequences(SAMPLES / "many_sequences.csv")
    np.testing.assert_array_equal(r.lengths, [25, 60, 40, 12, 80])
    r = read_sequences(SAMPLES / "sensor_with_timestamps.csv", options=ReadOptions(nan_policy="drop"))
    assert r.x.shape == (1, 235, 3) and r.time_index[0] == "2024-03-01 08:00:00"
    with pytest.raises(LabError, match=r"row 19, column 'temperature': missing value \(one of 5 in the "):
        read_sequences(SAMPLES / "sensor_with_timestamps.csv")


@pytest.mark.parametrize("name", BAD_SAMPLES)
def test_bad_sample_is_refused(name):
    with pytest.raises(LabError, match=BAD_SAMPLES[name]):
        read_sequences(SAMPLES / name)


# ------------------------------------------------------------------------- hypothesis: never anything else

CELLS = st.one_of(
    st.floats(width=32).map(repr), st.floats().map(repr), st.integers(-10**40, 10**40).map(str),
    st.sampled_from(["", "nan", "NA", "inf", "-inf", "1e400", "oops", "2024-01-01", "12:00:00", "true", " 3 ",
                     '"4"', '"', "1,5", "\ufeff", "\x00", "é"]),
    st.text(max_size=4),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(rows=st.lists(st.lists(CELLS, min_size=1, max_size=4), max_size=8),
       delimiter=st.sampled_from([",", ";", "\t", "|"]), eol=st.sampled_from(["\n", "\r\n"]),
       header=st.booleans(), bom=st.booleans(), ids=st.booleans(),
       policy=st.sampled_from(list(NAN_POLICIES)), normalise=st.sampled_from(["none", "zscore", "minmax"]))
def test_any_csv_reads_or_is_refused(rows, delimiter, eol, header, bom, ids, policy, normalise):
    width = max((len(r) for r in rows), default=1)
    if ids:
        rows = [["a" if i % 3 else "b"] + r for i, r in enumerate(rows)]
    lines = ([delimiter.join(["sequence_id"] * ids + [f"c{j}" for j in range(width)])] if header else []) + [
        delimiter.join(r) for r in rows]
    data = ("\ufeff" * bom + eol.join(lines) + eol).encode("utf-8")
    read_or_refuse(data, "f.csv", ReadOptions(nan_policy=policy, normalise=normalise))


@SETTINGS
@given(hnp.arrays(np.float32, st.tuples(st.integers(1, 30), st.integers(1, 5)),
                  elements=st.floats(allow_nan=False, allow_infinity=False, width=32)))
def test_clean_csv_round_trips_exactly(a):
    text = ",".join(f"c{j}" for j in range(a.shape[1])) + "\n"
    text += "".join(",".join(repr(float(v)) for v in row) + "\n" for row in a)
    r = read(text, "f.csv")
    np.testing.assert_array_equal(r.x[0], a)
    assert r.feature_names == tuple(f"c{j}" for j in range(a.shape[1]))


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from(list(FORMATS)))
def test_random_bytes_read_or_are_refused(data, ext):
    read_or_refuse(data, "f" + ext)


JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers(-10**20, 10**20) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["sequences", "feature_names", "sequence_ids", "x"]), inner,
                      max_size=3),
    max_leaves=25,
)
SEQUENCES = st.lists(st.lists(st.lists(st.floats(width=32), min_size=2, max_size=2), min_size=1, max_size=5),
                     min_size=1, max_size=4)


@SETTINGS
@given(st.one_of(JSON, SEQUENCES), st.sampled_from(list(NAN_POLICIES)))
def test_any_json_reads_or_is_refused(value, policy):
    r = read_or_refuse(json.dumps(value).encode(), "f.json", ReadOptions(nan_policy=policy))
    generated = isinstance(value, list) and value and isinstance(value[0], list) and value[0] \
        and isinstance(value[0][0], list)  # many sequences of steps: compare with what was written
    if r is not None and policy == "refuse" and generated:
        np.testing.assert_array_equal(r.lengths, [len(s) for s in value])
        for b, s in enumerate(value):
            np.testing.assert_array_equal(r.sequence(b), np.array(s, dtype=np.float32))


# The fuzz tests above check only "reads or refuses" for most inputs; these must-read properties compare values on
# every example (the profile's number of examples: 40, or 400 with HYPOTHESIS_PROFILE=thorough).
FINITE = st.floats(width=32, allow_nan=False, allow_infinity=False)


@given(st.lists(st.lists(st.lists(FINITE, min_size=2, max_size=2), min_size=1, max_size=5), min_size=1, max_size=4))
def test_any_finite_json_sequences_read_exactly(value):
    r = read(json.dumps(value), "f.json")  # finite numbers, every step two features: must be read, not refused
    assert_valid(r)
    np.testing.assert_array_equal(r.lengths, [len(s) for s in value])
    for b, s in enumerate(value):
        np.testing.assert_array_equal(r.sequence(b), np.array(s, dtype=np.float32))


NPY_DTYPES = st.sampled_from(["<f4", "<f8", ">f8", "<f2", "<i8", "u1", "?", "<c8", "<U2", "<M8[s]"])


@SETTINGS
@given(hnp.arrays(NPY_DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)),
       st.one_of(st.none(), st.integers(0, 200)), st.integers(0, 255))
def test_any_npy_reads_or_is_refused(a, cut, byte):
    data = npy(a)
    if cut is not None and cut < len(data):  # damage the file: truncate, or overwrite one byte
        data = data[:cut] if byte % 2 else data[:cut] + bytes([byte]) + data[cut + 1:]
    r = read_or_refuse(data, "f.npy")
    if r is not None and cut is None:
        a3 = a.reshape((1,) * (3 - a.ndim) + a.shape) if a.ndim > 1 else a.reshape(1, -1, 1)
        np.testing.assert_array_equal(r.x, a3.astype(np.float32))


NPY_SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@given(st.one_of(hnp.arrays(st.sampled_from(["<f2", "<f4", "<f8", ">f8"]), NPY_SHAPES,
                            elements=st.floats(-1e4, 1e4, width=16)),
                 hnp.arrays(st.sampled_from(["<i8", "u1", "?"]), NPY_SHAPES)))
def test_any_finite_numeric_npy_reads_exactly(a):
    r = read(npy(a), "f.npy")  # 1 to 3 dimensions, finite numbers: must be read, not refused
    assert_valid(r)
    a3 = a.reshape((1,) * (3 - a.ndim) + a.shape) if a.ndim > 1 else a.reshape(1, -1, 1)
    np.testing.assert_array_equal(r.x, a3.astype(np.float32))


@SETTINGS
@given(st.dictionaries(st.sampled_from(["x", "lengths", "a", "b", "feature_names"]),
                       hnp.arrays(st.sampled_from(["<f8", "<i8", "<U1"]),
                                  hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)),
                       max_size=3))
def test_any_npz_reads_or_is_refused(arrays):
    read_or_refuse(npz(**arrays), "f.npz")


@SETTINGS
@given(st.text(max_size=40), st.one_of(st.none(), st.integers(1, 7)),
       st.one_of(st.none(), st.lists(st.characters(), min_size=1, max_size=6, unique=True)))
def test_any_text_reads_or_is_refused(text, length, vocab):
    options = ReadOptions(text_length=length, vocab=None if vocab is None else tuple(vocab))
    r = read_or_refuse(text.encode(), "f.txt", options)
    if r is not None:  # one-hot: a single 1 on every real step of a known character, zeros elsewhere
        read_as = text.removeprefix("\ufeff").replace("\r\n", "\n")
        known = np.array([vocab is None or c in vocab for c in read_as], np.float32)
        np.testing.assert_array_equal(r.x.sum(axis=2)[r.mask], known)
        assert not r.x[~r.mask].any()
        unknown = int((known == 0).sum())
        notes = [n for n in r.notes if "not in the model's vocabulary" in n]
        assert notes == ([] if unknown == 0 else [notes[0]]) and (not notes or notes[0].startswith(f"{unknown} "))
    else:  # the only text a reader may refuse is an empty one (nothing but a byte-order mark and white space)
        assert not text.encode().removeprefix(BOM).strip(), repr(text)


def test_max_cells_bounds_the_padded_batch_before_parsing():
    from lstm_core.readers import ReadOptions, read_sequences

    data = "a,b\n" + "\n".join(f"{k},{k}" for k in range(50)) + "\n"
    assert read_sequences(data.encode(), name="ok.csv", options=ReadOptions(max_cells=100)).x.shape == (1, 50, 2)
    with pytest.raises(LabError, match=r"1 sequences padded to 51 steps x 2 features .* \(max_cells\)"):
        read_sequences((data + "50,50\n").encode(), name="big.csv", options=ReadOptions(max_cells=100))
    with pytest.raises(LabError, match="max_cells must be a whole number"):
        ReadOptions(max_cells=0)
