#!/usr/bin/env python3
"""Check the engine's MusicXML against its music_data sidecars with music21.

Usage: check_musicxml.py DIR

For every DIR/NAME.musicxml with a DIR/NAME.json (the music_data written by
`cargo run -p jazz-music --example dump_samples -- DIR`), parse the MusicXML
with music21.converter.parse and check, staff by staff and bar by bar, that
the notes, chords and rests (pitch name with accidental and octave, and
duration in quarter notes) are the ones in the JSON; that every chord symbol
was read with the right root; and that the key signature matches. Prints
`checked N files: P passed, F failed` and exits 1 on any failure.
"""

import json
import sys
from fractions import Fraction
from pathlib import Path

try:
    import music21
    from music21 import converter, harmony, key as m21key, note as m21note, chord as m21chord
except ImportError:  # pragma: no cover
    sys.exit("music21 is not installed: pip install music21")


def json_pitch(p):
    acc = "#" * p["alter"] if p["alter"] > 0 else "-" * (-p["alter"])
    return f'{p["step"]}{acc}{p["octave"]}'


def json_root(r):
    acc = "#" * r["alter"] if r["alter"] > 0 else "-" * (-r["alter"])
    return f'{r["step"]}{acc}'


def expected(data):
    """[(bar, staff)] -> [(sorted pitch names, quarterLength)]"""
    div = data["divisions"]
    out = {}
    for m in data["measures"]:
        for staff in (1, 2):
            evs = [e for e in m["events"] if e["staff"] == staff]
            out[(m["number"], staff)] = [
                (tuple(sorted(json_pitch(p) for p in e["pitches"])), Fraction(e["duration"], div)) for e in evs
            ]
    return out


def actual(score):
    out = {}
    staves = list(score.parts)
    for si, ps in enumerate(staves, start=1):
        for m in ps.getElementsByClass("Measure"):
            items = []
            for n in m.recurse().notesAndRests:
                if isinstance(n, harmony.ChordSymbol):
                    continue
                ql = Fraction(n.duration.quarterLength).limit_denominator(96)
                if isinstance(n, m21chord.Chord):
                    names = tuple(sorted(p.nameWithOctave for p in n.pitches))
                elif isinstance(n, m21note.Note):
                    names = (n.pitch.nameWithOctave,)
                else:
                    names = ()
                items.append((names, ql))
            out[(m.number, si)] = items
    return out, len(staves)


def check(xml_path, json_path):
    data = json.loads(json_path.read_text())
    score = converter.parse(str(xml_path))
    problems = []
    want = expected(data)
    got, staves = actual(score)
    if staves != 2:
        problems.append(f"{staves} staves, expected 2")
    for k, notes in sorted(want.items()):
        if got.get(k) != notes:
            problems.append(f"bar {k[0]} staff {k[1]}: music21 {got.get(k)} != json {notes}")
            break
    symbols = [c for m in data["measures"] for c in m["chords"]]
    read = [c for c in score.recurse() if isinstance(c, harmony.ChordSymbol)]
    if len(read) != len(symbols):
        problems.append(f"{len(read)} chord symbols read, {len(symbols)} expected")
    else:
        for c, s in zip(read, symbols):
            if c.root() is None or c.root().name != json_root(s["root"]):
                problems.append(f"chord symbol {s['text']} read with root {c.root()}")
                break
    sigs = list(score.recurse().getElementsByClass(m21key.KeySignature))
    if not sigs or sigs[0].sharps != data["key"]["fifths"]:
        problems.append(f"key signature {sigs[0].sharps if sigs else None} != {data['key']['fifths']}")
    elif isinstance(sigs[0], m21key.Key) and sigs[0].mode != data["key"]["mode"]:
        problems.append(f"mode {sigs[0].mode} != {data['key']['mode']}")
    return problems


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    directory = Path(sys.argv[1])
    files = sorted(directory.glob("*.musicxml"))
    passed = failed = 0
    for xml_path in files:
        json_path = xml_path.with_suffix(".json")
        try:
            problems = check(xml_path, json_path) if json_path.exists() else ["missing JSON sidecar"]
        except Exception as exc:  # a parse failure is a failed file, not a crash
            problems = [f"{type(exc).__name__}: {exc}"]
        if problems:
            failed += 1
            print(f"FAIL {xml_path.name}: " + "; ".join(problems))
        else:
            passed += 1
    print(f"checked {len(files)} files: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not files else 0)


if __name__ == "__main__":
    main()
