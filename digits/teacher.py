"""The teacher's passphrase: who may change the class's data (delete others' drawings, start a lesson).

A browser session is the teacher's once it has typed the passphrase set by
``DIGITS_TEACHER_KEY`` in the server's environment or ``teacher_key`` in
``.streamlit/secrets.toml``. Nothing else grants it: the mark is a server-side
object in the session's state, which no widget value a browser sends can equal.
With no passphrase configured, nobody is the teacher.
"""

from __future__ import annotations

import hmac
import os
import time

import streamlit as st

KEY_ENV = "DIGITS_TEACHER_KEY"
KEY_SECRET = "teacher_key"
WRONG_TRY_DELAY = 1.5  # seconds: guessing a passphrase by trying costs a browser this long per try
HOW_TO_SET = (f"Set a teacher passphrase to allow it: start the app with `{KEY_ENV}=… make run`, "
              f"or put `{KEY_SECRET} = \"…\"` in `.streamlit/secrets.toml`.")

_UNLOCKED = "teacher_unlocked"
_TOKEN = object()  # what marks a session as the teacher's; a browser can send no such object


def configured_key() -> str | None:
    """The teacher passphrase from the environment or Streamlit's secrets; None when neither sets one."""
    key = os.environ.get(KEY_ENV)
    if not key:
        try:
            key = st.secrets.get(KEY_SECRET)
        except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
            key = None
    return str(key) if key else None


def matches(attempt: str, key: str) -> bool:
    """Whether ``attempt`` is ``key``, in time that does not depend on where they differ.

    >>> matches("owl", "owl"), matches("owls", "owl")
    (True, False)
    """
    return hmac.compare_digest(attempt.encode(), key.encode())


def is_teacher() -> bool:
    """Whether this browser session has unlocked the teacher's rights."""
    return st.session_state.get(_UNLOCKED) is _TOKEN and configured_key() is not None


def unlock(attempt: str) -> bool:
    """Give this session the teacher's rights if ``attempt`` is the passphrase; a wrong try waits first."""
    key = configured_key()
    if key is not None and attempt and matches(attempt, key):
        st.session_state[_UNLOCKED] = _TOKEN
        return True
    time.sleep(WRONG_TRY_DELAY)
    return False


def lock() -> None:
    st.session_state.pop(_UNLOCKED, None)


def sign_in() -> bool:
    """The sidebar's teacher sign-in (or sign-out); returns whether this session is the teacher's."""
    box = st.sidebar.expander("Teacher", icon=":material/key:", expanded=False)
    if configured_key() is None:
        box.caption("No teacher passphrase is set, so nobody can delete other people's drawings or start a "
                    "lesson from the app. " + HOW_TO_SET)
        return False
    if is_teacher():
        box.success("Signed in as the teacher in this browser.", icon=":material/verified_user:")
        box.button("Sign out", key="teacher_sign_out", on_click=lock)
        return True
    with box.form("teacher_form", clear_on_submit=True, border=False):
        attempt = st.text_input("Passphrase", type="password", key="teacher_attempt")
        if st.form_submit_button("Sign in"):
            if unlock(attempt):
                st.rerun()
            st.error("That is not the teacher passphrase.")
    return False
