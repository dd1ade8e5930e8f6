#!/usr/bin/env python3
"""Independent verifier for caseward enrollment lotteries (format caseward-lottery/1).

Written from docs/lottery.md alone, without reading caseward's source, to show that the
specification is enough to re-run a draw. Standard library only (Python 3.11).

    python3 verify_lottery.py COMMITMENT_JSON POOL_TXT DRAW_JSON [--print-selection]

Runs the checks of "What a verification checks" and re-runs the draw. Ed25519 signatures are
verified only if the `cryptography` package is importable. Still to check by hand: the key is
the provider's registered key, and the seed is the value the commitment's seed_source names,
published after committed_at. (After the verifier was first written from it, the specification
gained seed_source, changed pool lines to one-time tokens and the seed to upper case, after a
review; the changes here follow those three points.)
"""
import argparse, hashlib, hmac, json, re, sys  # standard library only

FIELDS = {
    "commitment": {"format", "stage", "provider", "lottery", "slots", "seed_source",
                   "pool_size", "pool_sha256", "committed_at"},
    "draw": {"format", "stage", "provider", "lottery", "pool_sha256", "slots", "seed",
             "drawn_at", "selected"},
}
NO_SIG = "signatures not checked: use caseward lottery verify or an Ed25519 library"


class Failed(Exception):
    pass


def check(condition, reason):
    if not condition:
        raise Failed(reason)


def is_int(v, minimum=0):
    return isinstance(v, int) and not isinstance(v, bool) and v >= minimum


def is_str(v, pattern):
    return isinstance(v, str) and re.fullmatch(pattern, v, re.ASCII) is not None


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    check(len(keys) == len(set(keys)), f"duplicate key in a JSON object: {sorted(keys)}")
    return dict(pairs)


def load_signed(path, stage):
    """Read one signed document and check its structure and field formats."""
    try:
        with open(path, "rb") as f:
            signed = json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicates)
    except (OSError, ValueError) as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Failed(f"{stage}: cannot read {path}: {e}")
    check(isinstance(signed, dict) and set(signed) == {"format", "document", "signature"},
          f"{stage}: top level must have exactly the keys format, document, signature")
    check(signed["format"] == "caseward-lottery-signed/1", f"{stage}: wrong signed format")
    sig, doc = signed["signature"], signed["document"]
    check(isinstance(sig, dict) and set(sig) == {"algorithm", "public_key", "value"}
          and sig["algorithm"] == "ed25519" and is_str(sig["public_key"], r"ed25519:[0-9a-fA-F]{64}")
          and is_str(sig["value"], r"[0-9a-fA-F]{128}"), f"{stage}: malformed signature object")
    check(isinstance(doc, dict) and set(doc) == FIELDS[stage],
          f"{stage}: document fields must be exactly {sorted(FIELDS[stage])}")
    check(doc["format"] == "caseward-lottery/1", f"{stage}: document format is not caseward-lottery/1")
    check(doc["stage"] == stage, f"{stage}: document stage is {doc['stage']!r}, expected {stage!r}")
    check(isinstance(doc["provider"], str) and doc["provider"], f"{stage}: provider is not a string")
    check(is_str(doc["lottery"], r"[a-z0-9-]{1,64}"), f"{stage}: lottery id must be 1 to 64 of a-z, 0-9, -")
    check(is_str(doc["pool_sha256"], r"[0-9a-f]{64}"), f"{stage}: pool_sha256 is not 64 lowercase hex")
    check(is_int(doc["slots"], 1), f"{stage}: slots is not an integer >= 1")
    if stage == "commitment":
        check(is_str(doc["seed_source"], r"[\x20-\x7e]{1,200}") and doc["seed_source"].strip(),
              "commitment: seed_source is not 1 to 200 printable ASCII characters")
        check(is_int(doc["pool_size"]) and doc["slots"] < doc["pool_size"],
              "commitment: pool_size is not an integer greater than slots")
        check(is_int(doc["committed_at"]), "commitment: committed_at is not an integer")
    else:
        check(is_str(doc["seed"], r"[\x21-\x7e]{1,512}"),
              "draw: seed must be 1 to 512 printable ASCII characters (0x21 to 0x7E)")
        check(is_int(doc["drawn_at"]), "draw: drawn_at is not an integer")
        check(isinstance(doc["selected"], list) and all(isinstance(s, str) for s in doc["selected"]),
              "draw: selected is not a list of strings")
    return signed


def verify_signatures(named_docs):
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return NO_SIG
    for stage, signed in named_docs:
        sig = signed["signature"]
        try:
            canonical = json.dumps(signed["document"], sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False).encode("utf-8")
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig["public_key"][len("ed25519:"):]))
            key.verify(bytes.fromhex(sig["value"]), b"caseward-lottery/1\x00" + canonical)
        except (InvalidSignature, ValueError):
            raise Failed(f"{stage}: Ed25519 signature does not verify")
    return "signatures verified (Ed25519); check by hand that the key is the provider's registered key"


def read_pool(path, commitment):
    """Return the pool's pseudonyms (bytes, without line feeds) after checking the file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Failed(f"cannot read pool file {path}: {e}")
    check(hashlib.sha256(data).hexdigest() == commitment["pool_sha256"],
          "pool file SHA-256 does not match the commitment's pool_sha256")
    check(data.endswith(b"\n"), "pool file is empty or its last line does not end with a line feed")
    lines = data[:-1].split(b"\n")
    pattern = re.compile(rb"cwl1:[0-9a-f]{32}")
    for n, line in enumerate(lines, 1):
        check(pattern.fullmatch(line), f"pool file line {n} is not a token: {line!r}")
        check(n == 1 or lines[n - 2] < line, f"pool file line {n} is not after line {n - 1} in byte order")
    check(len(lines) == commitment["pool_size"],
          f"pool file has {len(lines)} lines, commitment says pool_size {commitment['pool_size']}")
    return lines


def run_draw(pool, lottery, pool_sha256, slots, seed):
    """The draw algorithm of docs/lottery.md; returns the selected pseudonyms, sorted."""
    # The seed's ASCII letters in upper case: one draw per beacon value, whatever its spelling.
    seed = "".join(ch.upper() if "a" <= ch <= "z" else ch for ch in seed)
    parts = [b"caseward-lottery/1 draw", lottery.encode(), pool_sha256.encode(), str(slots).encode(), seed.encode()]
    draw_key = hashlib.sha256(b"\x00".join(parts)).digest()
    ranked = sorted(pool, key=lambda p: (hmac.new(draw_key, p, hashlib.sha256).digest(), p))
    return sorted(ranked[:slots])


def verify(args):
    c, d = load_signed(args.commitment, "commitment"), load_signed(args.draw, "draw")
    cd, dd = c["document"], d["document"]
    check(c["signature"]["public_key"].lower() == d["signature"]["public_key"].lower(),
          "the commitment and the draw name different public keys")
    note = verify_signatures([("commitment", c), ("draw", d)])
    for field in ("provider", "lottery", "pool_sha256", "slots"):
        check(cd[field] == dd[field], f"commitment and draw disagree on {field}: {cd[field]!r} vs {dd[field]!r}")
    check(dd["drawn_at"] >= cd["committed_at"], "drawn_at is before committed_at")
    pool = read_pool(args.pool, cd)
    expected = [p.decode() for p in run_draw(pool, cd["lottery"], cd["pool_sha256"], cd["slots"], dd["seed"])]
    got = dd["selected"]
    check(len(got) == cd["slots"], f"draw: selected has {len(got)} entries, slots is {cd['slots']}")
    check(all(a < b for a, b in zip(got, got[1:])), "draw: selected is not sorted ascending")  # code point = byte order
    missing = [p for p in expected if p not in got]
    check(got == expected, f"the draw algorithm gives a different selection; not in selected: {missing}")
    return cd, dd, expected, note


def main():
    ap = argparse.ArgumentParser(description="Verify a caseward enrollment lottery draw (docs/lottery.md).")
    ap.add_argument("commitment", metavar="COMMITMENT_JSON")
    ap.add_argument("pool", metavar="POOL_TXT")
    ap.add_argument("draw", metavar="DRAW_JSON")
    ap.add_argument("--print-selection", action="store_true", help="also print the recomputed selection")
    args = ap.parse_args()
    try:
        cd, dd, selection, note = verify(args)
    except Failed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    signed = "" if note != NO_SIG else " (signatures NOT checked)"
    print(f"verified{signed}: lottery {cd['lottery']}, {cd['slots']} of {cd['pool_size']} selected, seed {dd['seed']}")
    print(f"check by hand: the seed is the value named in advance ({cd['seed_source']}), "
          f"published after {cd['committed_at']} (unix time)", file=sys.stderr)
    if args.print_selection:
        print("\n".join(selection))
    print(note, file=sys.stderr)  # stderr, so that stdout is exactly the result (and the selection)
    return 0


if __name__ == "__main__":
    sys.exit(main())
