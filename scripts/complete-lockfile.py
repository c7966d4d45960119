# Adds lockfile entries for platform-specific optional dependencies that the npm registry
# mirror used here does not serve (other OSes/CPUs), so `npm ci` validates the lockfile.
# npm never installs them on this platform (os/cpu/libc filters). Run after `npm install`:
#   python3 scripts/complete-lockfile.py package-lock.json
import json, re, sys
p = sys.argv[1]
lock = json.load(open(p))
pk = lock["packages"]
OS = {"android":"android","darwin":"darwin","linux":"linux","win32":"win32","windows":"win32","freebsd":"freebsd","openharmony":"openharmony","openbsd":"openbsd","netbsd":"netbsd","sunos":"sunos","aix":"aix"}
CPU = {"arm64":"arm64","x64":"x64","64":"x64","arm":"arm","ia32":"ia32","loong64":"loong64","ppc64":"ppc64","riscv64":"riscv64","s390x":"s390x"}
def infer(name):
    base = name.split("/")[-1]
    base = re.sub(r"^(cli-|rollup-)", "", base)
    parts = base.split("-")
    os_ = OS.get(parts[0]); cpu = CPU.get(parts[1]) if len(parts) > 1 else None
    libc = None
    rest = "-".join(parts[2:])
    if parts[0] == "linux":
        libc = "musl" if "musl" in rest else "glibc"
    return os_, cpu, libc
added = []
for path, meta in list(pk.items()):
    for dep, ver in (meta.get("optionalDependencies") or {}).items():
        key = f"node_modules/{dep}"
        if key in pk: continue
        os_, cpu, libc = infer(dep)
        if not os_ or not cpu:
            print("cannot infer", dep); continue
        entry = {"version": ver, "cpu": [cpu], "optional": True, "os": [os_]}
        if meta.get("dev"): entry["dev"] = True
        if libc: entry["libc"] = [libc]
        pk[key] = entry
        added.append(dep)
lock["packages"] = dict(sorted(pk.items(), key=lambda kv: (kv[0] != "", kv[0])))
json.dump(lock, open(p, "w"), indent=2)
open(p, "a").write("\n")
print(len(added), "added")
