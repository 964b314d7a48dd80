"""phonesim: a Cisco 79xx phone simulator for ciscoflash's end-to-end tests.

Written from /work/shared/reference/cisco-79xx.md (cited as "ref N.N") and the
domain facts of DESIGN.md, independently of ciscoflash's C++ code, so that it can
catch that code's mistakes. Python 3 standard library only.
"""
