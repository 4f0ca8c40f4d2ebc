"""The small core every domain stands on, and nothing else.

* ``errors``: the one domain error and the one conflict error every domain's errors derive
  from, and the one version check;
* ``labels``: the labelled enum behind every set of choices;
* ``vocabulary``: the union's grades and the staff roles, written once;
* ``clock``: "today" in the union's time zone and "now" in UTC;
* ``transaction``: the one transaction boundary for requests, commands and file clean-up;
* ``bounded``: work on hostile or heavy input (PDF rendering, cleaning uploads) in a forked
  child whose memory and time are capped.

The kernel imports nothing from the domains; every domain may import it.
"""
