# SPDX-License-Identifier: Apache-2.0
#
# Reads kvm-unit-tests' x86/unittests.cfg and prints one line per test,
# fields separated by a tab:
#   name file smp params test_args arch groups timeout accel check
# params is qemu_params (or the older extra_params); a """ value may span
# lines. Surrounding quotes of test_args are kept: the runner expands them
# as the suite's own harness does (eval). Empty fields print as "-".
function flush() {
	if (name == "")
		return
	printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, f["file"], \
		or1(f["smp"]), dash(f["params"]), dash(f["test_args"]), dash(f["arch"]), \
		dash(f["groups"]), dash(f["timeout"]), dash(f["accel"]), dash(f["check"])
}
function dash(v) { return v == "" ? "-" : v }
function or1(v) { return v == "" ? "1" : v }
function trim(v) { sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); return v }
BEGIN { name = "" }
/^[ \t]*#/ || /^[ \t]*$/ { next }
/^\[.*\]$/ {
	flush()
	name = substr($0, 2, length($0) - 2)
	delete f
	next
}
{
	eq = index($0, "=")
	if (!eq)
		next
	key = trim(substr($0, 1, eq - 1))
	val = trim(substr($0, eq + 1))
	if (key == "qemu_params" || key == "extra_params")
		key = "params"
	if (substr(val, 1, 3) == "\"\"\"") {
		val = substr(val, 4)
		while (index(val, "\"\"\"") == 0 && (getline line) > 0)
			val = val " " line
		sub(/"""[ \t]*$/, "", val)
		gsub(/\\[ \t]/, " ", val)
		val = trim(val)
	}
	gsub(/\t/, " ", val)
	f[key] = val
}
END { flush() }
