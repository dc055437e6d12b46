"""Work on many sessions: a study's sessions and their state, criteria carried between them, batch runs.

Also the ``cellector`` command line (:mod:`cellector.study.cli`) that drives them.
"""

from cellector._shared.lazy import lazy_names

_HOME = {
    "SessionJob": "cellector.study.batch",
    "Study": "cellector.study.sessions",
    "apply_criteria": "cellector.study.propagate",
    "find_sessions": "cellector.study.status",
    "propagate_criteria": "cellector.study.propagate",
    "run_jobs": "cellector.study.batch",
    "session_status": "cellector.study.status",
}

__all__ = sorted([*_HOME])
__getattr__, __dir__ = lazy_names(globals(), _HOME)
