#!/usr/bin/env python3
"""Embed a text file in C as a NUL-terminated char array: embed.py IN OUT NAME."""
import sys

src, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, "rb").read()
with open(out, "w") as f:
    f.write("/* generated from %s by tools/embed.py; do not edit */\n" % src.split("/")[-1])
    f.write("#include <stddef.h>\n")
    f.write("const char %s[] = {\n" % name)
    for i in range(0, len(data), 16):
        f.write("    " + ", ".join(str(b) for b in data[i:i + 16]) + ",\n")
    f.write("    0};\n")
    f.write("const size_t %s_len = %d;\n" % (name, len(data)))
