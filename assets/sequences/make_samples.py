"""Write the sample sequence files of this folder (seeded: the same bytes on every run).

    python assets/sequences/make_samples.py

Each file shows one format or one kind of mess the readers handle; the files named bad_* are broken on
purpose so the app can show its error messages. README.md describes every file.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BOM = "\ufeff"

# Lincoln's Gettysburg Address (1863, the Bliss copy), in the public domain.
GETTYSBURG = """\
Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in \
Liberty, and dedicated to the proposition that all men are created equal.

Now we are engaged in a great civil war, testing whether that nation, or any nation so conceived and so \
dedicated, can long endure. We are met on a great battle-field of that war. We have come to dedicate a \
portion of that field, as a final resting place for those who here gave their lives that that nation might \
live. It is altogether fitting and proper that we should do this.

But, in a larger sense, we can not dedicate\u2014we can not consecrate\u2014we can not hallow\u2014this \
ground. The brave men, living and dead, who struggled here, have consecrated it, far above our poor power \
to add or detract. The world will little note, nor long remember what we say here, but it can never forget \
what they did here. It is for us the living, rather, to be dedicated here to the unfinished work which they \
who fought here have thus far so nobly advanced. It is rather for us to be here dedicated to the great task \
remaining before us\u2014that from these honored dead we take increased devotion to that cause for which \
they gave the last full measure of devotion\u2014that we here highly resolve that these dead shall not have \
died in vain\u2014that this nation, under God, shall have a new birth of freedom\u2014and that government \
of the people, by the people, for the people, shall not perish from the earth.
"""


def _rows(rows, sep: str = ",") -> str:
    return "".join(sep.join(str(v) for v in row) + "\n" for row in rows)


def _num(v: float) -> str:
    return f"{v:.4f}"


def write(name: str, content: str | bytes) -> None:
    path = HERE / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)


def main() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(200)

    write("sine.csv", "y\n" + _rows([[_num(v)] for v in np.sin(2 * np.pi * t / 50)]))

    a, b = np.sin(2 * np.pi * t / 40), np.sin(2 * np.pi * t / 17 + 1.0)
    two = [[_num(u), _num(v)] for u, v in zip(a, b, strict=True)]
    write("two_sines_semicolon.csv", BOM + "slow;fast\n" + _rows(two, ";"))

    n = 240
    stamps = np.datetime64("2024-03-01T08:00:00") + np.arange(n) * np.timedelta64(30, "s")
    temperature = 21 + np.cumsum(rng.normal(0, 0.05, n))
    humidity = 45 + 5 * np.sin(np.arange(n) / 30) + rng.normal(0, 0.3, n)
    pressure = 1013 + np.cumsum(rng.normal(0, 0.02, n))
    sensor = [[str(s).replace("T", " "), _num(x), _num(y), _num(z)]
              for s, x, y, z in zip(stamps, temperature, humidity, pressure, strict=True)]
    for row, col in ((17, 1), (18, 1), (95, 2), (160, 3), (161, 1)):  # sensor dropouts
        sensor[row][col] = ""
    write("sensor_with_timestamps.csv", "timestamp,temperature,humidity,pressure\n" + _rows(sensor))

    rows = []
    for k, length in enumerate((25, 60, 40, 12, 80)):
        walk = np.cumsum(rng.normal(0, 1, (length, 2)), axis=0)
        rows += [[f"walk_{'abcde'[k]}", _num(x), _num(y)] for x, y in walk]
    write("many_sequences.csv", "sequence_id,x,y\n" + _rows(rows))

    write("noheader.csv", _rows([[_num(v) for v in row] for row in rng.normal(0, 1, (100, 3))]))

    steps = [[_num(float(k // 20 % 3)), k % 20 // 10] for k in range(120)]  # a staircase and a square wave
    write("steps.tsv", "level\tgate\n" + _rows(steps, "\t"))

    values = rng.uniform(0, 1, (4, 100)).astype(np.float32)
    markers = np.zeros((4, 100), np.float32)
    for i in range(4):
        markers[i, rng.choice(100, 2, replace=False)] = 1
    _save("adding_problem.npy", np.stack([values, markers], axis=-1))  # (4, 100, 2)

    _save("random_walk.npy", np.cumsum(rng.normal(0, 1, 500)))  # (500,)

    x = np.zeros((3, 80, 1), np.float32)
    lengths = np.array([80, 45, 60])
    for i, length in enumerate(lengths):
        x[i, :length, 0] = np.sin(np.arange(length) / (4 + 2 * i))
    _savez("variable_lengths.npz", x=x, lengths=lengths)

    spikes = [[round(float(v), 3) for v in (rng.uniform(0, 1, length) > 0.9) * rng.uniform(1, 3, length)]
              for length in (30, 50, 20)]
    lines = ",\n".join("    " + json.dumps(seq) for seq in spikes)  # one sequence per line
    write("spikes.json", f'{{\n  "sequences": [\n{lines}\n  ],\n  "feature_names": ["spike"],\n'
                         '  "sequence_ids": ["cell_1", "cell_2", "cell_3"]\n}\n')

    decay = [round(float(np.exp(-k / 15) * np.cos(k / 2)), 4) for k in range(60)]
    write("sequence.json", json.dumps(decay) + "\n")

    write("gettysburg.txt", GETTYSBURG)

    bad = [[_num(u), _num(v)] for u, v in zip(a[:30], b[:30], strict=True)]
    bad[5] = bad[5] + ["0.5"]  # row 7 of the file (after the header) has a third field
    write("bad_ragged_rows.csv", "slow,fast\n" + _rows(bad))

    bad = [[_num(u), _num(v)] for u, v in zip(a[:30], b[:30], strict=True)]
    bad[2][1] = "n/a?"  # not a missing-value marker pandas knows: text in a numeric column
    write("bad_text_in_numbers.csv", "slow,fast\n" + _rows(bad))

    _save("bad_complex.npy", np.exp(1j * np.arange(50) / 5))  # complex numbers: not a real-valued input


def _save(name: str, array: np.ndarray) -> None:
    with open(HERE / name, "wb") as f:
        np.save(f, array, allow_pickle=False)


def _savez(name: str, **arrays: np.ndarray) -> None:
    """Like np.savez, but with fixed member dates so the archive's bytes do not change between runs."""
    with zipfile.ZipFile(HERE / name, "w", zipfile.ZIP_STORED) as z:
        for key, array in arrays.items():
            buf = io.BytesIO()
            np.save(buf, array, allow_pickle=False)
            z.writestr(zipfile.ZipInfo(f"{key}.npy", date_time=(2024, 1, 1, 0, 0, 0)), buf.getvalue())


if __name__ == "__main__":
    main()
