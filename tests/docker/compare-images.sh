#!/usr/bin/env bash
# Compare two local images for equivalence.
#
# usage: compare-images.sh [--max N] [--ignore GLOB]... IMG_A IMG_B
#
# Exit status: 0 equivalent, 1 different (the first N differences, default 20, are printed
# on stdout), 2 usage error / docker failure.
#
# Equivalent means:
#  * filesystems (from `docker create` + `docker export`): same paths, and for each path the
#    same type, permission bits (incl. setuid/setgid/sticky), numeric uid/gid, sha256 of the
#    content (regular files; hard links are compared by content), symlink target, device
#    numbers and xattrs. Modification times are ignored. Paths matching an --ignore GLOB
#    (fnmatch on the path without leading "/", e.g. --ignore 'root/.cache/*') are skipped.
#    Note: `docker export` also contains what the engine adds to every container
#    (/.dockerenv, /etc/hosts, /etc/hostname, /etc/resolv.conf, /dev, /proc, /sys); those
#    entries are identical for both images.
#  * configs (`docker image inspect --format '{{json .Config}}'`): same Env (compared as a
#    NAME -> value map: the order of ENV instructions does not matter, the values do),
#    WorkingDir, User, Cmd, Entrypoint, Shell, ExposedPorts, Labels, Volumes, Healthcheck,
#    StopSignal, OnBuild. null, [] and {} are treated alike.
# Environment: DOCKER (client binary; default /usr/bin/docker when present, else docker).
set -euo pipefail

if [ -z "${DOCKER:-}" ]; then
	if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
export DOCKER

exec python3 - "$@" <<'PY'
import fnmatch, hashlib, json, os, subprocess, sys, tarfile

DOCKER = os.environ["DOCKER"]

def usage(msg=None):
    if msg:
        print("compare-images.sh: " + msg, file=sys.stderr)
    print("usage: compare-images.sh [--max N] [--ignore GLOB]... IMG_A IMG_B", file=sys.stderr)
    sys.exit(2)

args = sys.argv[1:]
max_diffs, ignores, imgs = 20, [], []
while args:
    a = args.pop(0)
    if a == "--max":
        if not args: usage("--max needs a value")
        max_diffs = int(args.pop(0))
    elif a == "--ignore":
        if not args: usage("--ignore needs a value")
        ignores.append(args.pop(0).lstrip("/"))
    elif a in ("-h", "--help"):
        usage()
    elif a.startswith("-"):
        usage("unknown option " + a)
    else:
        imgs.append(a)
if len(imgs) != 2:
    usage("need exactly two images")

def docker(*cmd, **kw):
    return subprocess.run([DOCKER, *cmd], check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)

CONFIG_FIELDS = ["Env", "WorkingDir", "User", "Cmd", "Entrypoint", "Shell", "ExposedPorts",
                 "Labels", "Volumes", "Healthcheck", "StopSignal", "OnBuild"]

def config(img):
    cfg = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", img).stdout)
    out = {}
    for f in CONFIG_FIELDS:
        v = cfg.get(f)
        if v in ([], {}, ""):
            v = None
        if f == "Env" and v is not None:
            env = {}
            for e in v:
                k, _, val = e.partition("=")
                env[k] = val
            v = env
        out[f] = v
    return out

TYPES = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.LNKTYPE: "file",
         tarfile.SYMTYPE: "symlink", tarfile.DIRTYPE: "dir", tarfile.CHRTYPE: "chardev",
         tarfile.BLKTYPE: "blockdev", tarfile.FIFOTYPE: "fifo", tarfile.CONTTYPE: "file"}

def norm(name):
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/") or "."

def filesystem(img):
    cid = docker("create", "--entrypoint", "/dockreorder-compare-placeholder", img).stdout.decode().strip()
    try:
        proc = subprocess.Popen([DOCKER, "export", cid], stdout=subprocess.PIPE)
        entries, by_name = {}, {}
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for m in tar:
                path = norm(m.name)
                if path != "." and any(fnmatch.fnmatchcase(path, g) for g in ignores):
                    continue
                e = {"type": TYPES.get(m.type, "type-%r" % m.type),
                     "mode": "%04o" % (m.mode & 0o7777), "uid": m.uid, "gid": m.gid}
                if m.isreg():
                    h = hashlib.sha256()
                    f = tar.extractfile(m)
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                    e["sha256"] = h.hexdigest()
                    e["size"] = m.size
                elif m.islnk():
                    target = by_name.get(norm(m.linkname))
                    e["sha256"] = target.get("sha256") if target else "hardlink:" + m.linkname
                elif m.issym():
                    e["target"] = m.linkname
                elif m.ischr() or m.isblk():
                    e["dev"] = "%d,%d" % (m.devmajor, m.devminor)
                xattrs = {k: v for k, v in (m.pax_headers or {}).items() if k.startswith("SCHILY.xattr.")}
                if xattrs:
                    e["xattrs"] = xattrs
                entries["/" + path if path != "." else "/"] = e
                by_name[path] = e
        if proc.wait() != 0:
            raise SystemExit("compare-images.sh: docker export failed for " + img)
        return entries
    finally:
        subprocess.run([DOCKER, "rm", "-f", cid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

try:
    cfg_a, cfg_b = config(imgs[0]), config(imgs[1])
    fs_a, fs_b = filesystem(imgs[0]), filesystem(imgs[1])
except subprocess.CalledProcessError as e:
    print("compare-images.sh: %s failed: %s" % (" ".join(e.cmd), e.stderr.decode(errors="replace").strip()), file=sys.stderr)
    sys.exit(2)

diffs = []
for f in CONFIG_FIELDS:
    if cfg_a[f] != cfg_b[f]:
        if f == "Env" and cfg_a[f] and cfg_b[f]:
            for k in sorted(set(cfg_a[f]) | set(cfg_b[f])):
                va, vb = cfg_a[f].get(k), cfg_b[f].get(k)
                if va != vb:
                    diffs.append("config Env %s: A=%s B=%s" % (k, json.dumps(va), json.dumps(vb)))
        else:
            diffs.append("config %s: A=%s B=%s" % (f, json.dumps(cfg_a[f], sort_keys=True), json.dumps(cfg_b[f], sort_keys=True)))

for p in sorted(set(fs_a) | set(fs_b)):
    a, b = fs_a.get(p), fs_b.get(p)
    if a is None:
        diffs.append("only in B: %s (%s)" % (p, b["type"]))
    elif b is None:
        diffs.append("only in A: %s (%s)" % (p, a["type"]))
    elif a != b:
        parts = []
        for k in ("type", "mode", "uid", "gid", "sha256", "size", "target", "dev", "xattrs"):
            if a.get(k) != b.get(k):
                if k == "sha256":
                    parts.append("content differs")
                elif k != "size" or a.get("sha256") == b.get("sha256"):
                    parts.append("%s A=%s B=%s" % (k, a.get(k), b.get(k)))
        diffs.append("%s: %s" % (p, ", ".join(parts)))

if not diffs:
    print("equivalent: %s == %s (%d paths)" % (imgs[0], imgs[1], len(fs_a)))
    sys.exit(0)
print("DIFFERENT: %s vs %s, %d difference(s)%s:" % (imgs[0], imgs[1], len(diffs),
      "" if len(diffs) <= max_diffs else ", first %d" % max_diffs))
for d in diffs[:max_diffs]:
    print("  " + d)
sys.exit(1)
PY
