"""The benchmark behind `./dev bench`: the HTTP app as the Procfile runs it, under load, on this machine.

It prints figures and PASS/MISS against the project's targets; it asserts nothing.
"""
