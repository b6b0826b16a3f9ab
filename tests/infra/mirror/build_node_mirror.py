# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a local Node.js dist mirror in the official nodejs.org layout.

The official tarballs cannot be fetched here, so each one is rebuilt from what
the npm registry serves: the ``node-linux-<arch>`` package (the official Node
binary, headers and docs) plus the ``npm`` package, laid out like the official
``node-vX.Y.Z-linux-<arch>/`` tree. The result is::

    OUT/index.json
    OUT/vX.Y.Z/SHASUMS256.txt
    OUT/vX.Y.Z/node-vX.Y.Z-linux-<arch>.tar.xz

Everything is cached: npm tarballs under --pack-cache, built tarballs in OUT.
A version whose tarball and SHASUMS256.txt exist is not rebuilt. Files are
written to a temporary name and renamed, so an interrupted build is never used, and
one build at a time holds OUT/.lock (parallel test workers start test beds at once).
The registry comes from the npm client's own configuration.
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, ".cache", "node-mirror")
DEFAULT_PACKS = os.path.join(ROOT, ".cache", "npm-packs")
DEFAULT_VERSIONS = "22.23.3,22.23.2"
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")


def sha256_file(path: str) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def npm_pack(spec: str, pack_cache: str) -> str:
    """Return the path of the ``npm pack`` tarball of SPEC, packing it once."""
    os.makedirs(pack_cache, exist_ok=True)
    name, _sep, version = spec.rpartition("@")
    if VERSION_RE.match(version):
        expected = os.path.join(pack_cache, "%s-%s.tgz" % (name.lstrip("@").replace("/", "-"), version))
        if os.path.exists(expected):
            return expected
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", pack_cache],
        check=True, capture_output=True, text=True, timeout=900,
    )
    info = json.loads(out.stdout)
    return os.path.join(pack_cache, info[0]["filename"])


def extract_package(tgz: str, dest: str) -> None:
    """Extract the ``package/`` directory of an npm tarball into DEST."""
    with tarfile.open(tgz, "r:gz") as archive:
        members = []
        for member in archive.getmembers():
            if not member.name.startswith("package/"):
                continue
            member.name = member.name[len("package/"):]
            if member.name:
                members.append(member)
        archive.extractall(dest, members=members, filter="data")


def build_tree(version: str, arch: str, npm_spec: str, pack_cache: str, workdir: str) -> tuple[str, str]:
    """Assemble node-vX.Y.Z-linux-ARCH/ in WORKDIR; return (tree path, npm version)."""
    node_tgz = npm_pack("node-linux-%s@%s" % (arch, version), pack_cache)
    npm_tgz = npm_pack(npm_spec, pack_cache)
    npm_version = re.search(r"npm-(\d+\.\d+\.\d+)\.tgz$", npm_tgz).group(1)
    top = "node-v%s-linux-%s" % (version, arch)
    tree = os.path.join(workdir, top)
    staging = os.path.join(workdir, "node-package")
    extract_package(node_tgz, staging)
    os.makedirs(os.path.join(tree, "bin"))
    shutil.copy2(os.path.join(staging, "bin", "node"), os.path.join(tree, "bin", "node"))
    os.chmod(os.path.join(tree, "bin", "node"), 0o755)
    for entry in ("include", "share"):
        if os.path.isdir(os.path.join(staging, entry)):
            shutil.copytree(os.path.join(staging, entry), os.path.join(tree, entry))
    for entry in ("LICENSE", "README.md", "CHANGELOG.md"):
        if os.path.exists(os.path.join(staging, entry)):
            shutil.copy2(os.path.join(staging, entry), os.path.join(tree, entry))
    npm_dir = os.path.join(tree, "lib", "node_modules", "npm")
    extract_package(npm_tgz, npm_dir)
    os.symlink("../lib/node_modules/npm/bin/npm-cli.js", os.path.join(tree, "bin", "npm"))
    os.symlink("../lib/node_modules/npm/bin/npx-cli.js", os.path.join(tree, "bin", "npx"))
    return tree, npm_version


def write_atomic(path: str, text: str) -> None:
    """Write TEXT to PATH through a temporary file and a rename."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def build_version(version: str, arches: list[str], npm_spec: str, out: str, pack_cache: str, xz_level: int) -> dict:
    """Build the tarballs and SHASUMS256.txt of one version; return its index.json entry."""
    vdir = os.path.join(out, "v%s" % version)
    os.makedirs(vdir, exist_ok=True)
    sums_path = os.path.join(vdir, "SHASUMS256.txt")
    meta_path = os.path.join(vdir, ".build.json")
    sums = {}
    if os.path.exists(sums_path):
        for line in open(sums_path, encoding="utf-8").read().splitlines():
            digest, _sep, name = line.partition("  ")
            sums[name] = digest
    meta = json.load(open(meta_path, encoding="utf-8")) if os.path.exists(meta_path) else {}
    for arch in arches:
        name = "node-v%s-linux-%s.tar.xz" % (version, arch)
        target = os.path.join(vdir, name)
        if os.path.exists(target) and name in sums:
            print("cached   %s" % target)
            continue
        with tempfile.TemporaryDirectory(dir=out, prefix=".build-") as workdir:
            tree, npm_version = build_tree(version, arch, npm_spec, pack_cache, workdir)
            tmp = os.path.join(workdir, name)
            env = dict(os.environ, XZ_OPT="-T0 -%d" % xz_level)
            subprocess.run(
                ["tar", "-C", workdir, "--owner=0", "--group=0", "--numeric-owner", "-cJf", tmp, os.path.basename(tree)],
                check=True, env=env, timeout=1800,
            )
            sums[name] = sha256_file(tmp)
            os.replace(tmp, target)
            meta["npm"] = npm_version
        print("built    %s" % target)
    write_atomic(meta_path, json.dumps(meta))
    write_atomic(sums_path, "".join("%s  %s\n" % (sums[name], name) for name in sorted(sums)))
    files = sorted(n.split("-linux-")[1].split(".tar")[0] for n in sums if "-linux-" in n)
    return {
        "version": "v%s" % version,
        "date": datetime.date.today().isoformat(),
        "files": ["linux-%s" % arch for arch in files],
        "npm": meta.get("npm", ""),
        "lts": False,
        "security": False,
    }


def version_key(entry: dict) -> tuple[int, ...]:
    """Sort key of an index.json entry."""
    return tuple(int(part) for part in entry["version"].lstrip("v").split("."))


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", default=os.environ.get("NODE_MIRROR_VERSIONS", DEFAULT_VERSIONS),
                        help="comma separated exact Node versions (default: %(default)s)")
    parser.add_argument("--arch", default="x64", help="comma separated architectures: x64, arm64")
    parser.add_argument("--npm", default="npm@10", help="npm package spec bundled into the tarballs")
    parser.add_argument("--out", default=DEFAULT_OUT, help="mirror directory (default: %(default)s)")
    parser.add_argument("--pack-cache", default=DEFAULT_PACKS, help="npm pack cache (default: %(default)s)")
    parser.add_argument("--xz-level", type=int, default=1, help="xz preset, 0-9 (default: %(default)s)")
    args = parser.parse_args(argv)
    versions = [v.strip().lstrip("v") for v in args.versions.split(",") if v.strip()]
    bad = [v for v in versions if not VERSION_RE.match(v)]
    if bad:
        print("error: not an exact X.Y.Z version: %s" % ", ".join(bad), file=sys.stderr)
        return 2
    arches = [a.strip() for a in args.arch.split(",") if a.strip()]
    os.makedirs(args.out, exist_ok=True)
    index_path = os.path.join(args.out, "index.json")
    # Two builds at once would each rebuild a tarball (xz output differs run to run) and could pair one's
    # SHASUMS256.txt with the other's tarball; the second waits and then finds everything cached.
    with open(os.path.join(args.out, ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        index = {}
        if os.path.exists(index_path):
            index = {entry["version"]: entry for entry in json.load(open(index_path, encoding="utf-8"))}
        for version in versions:
            entry = build_version(version, arches, args.npm, args.out, args.pack_cache, args.xz_level)
            if entry["version"] in index:
                entry["date"] = index[entry["version"]].get("date", entry["date"])
            index[entry["version"]] = entry
        write_atomic(index_path, json.dumps(sorted(index.values(), key=version_key, reverse=True), indent=1) + "\n")
    print("mirror   %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
