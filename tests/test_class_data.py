"""My drawings and Class over a real store: aggregates, pages of drawings, and the teacher in charge."""

import re
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digits import config, store, teacher
from digits.preprocess import canvas_to_mnist, naive_resize
from tests.conftest import ROOT, TIMEOUT, stroke_canvas

ONE = stroke_canvas([(40, 160), (280, 160)], width=22)
IMAGE = canvas_to_mnist(ONE)


@pytest.fixture(autouse=True)
def fresh_caches():
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()  # the server's one store: each test has a database of its own


@pytest.fixture
def db(tmp_path, monkeypatch):
    """An empty drawings database of this test's own, where the pages look for it; no passphrase set."""
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    monkeypatch.delenv(teacher.KEY_ENV, raising=False)
    monkeypatch.setattr(teacher, "WRONG_TRY_DELAY", 0.3)
    return store.connect(tmp_path / "drawings.sqlite")


def add(db, label: int, read: int, session: str = "s", **more) -> int:
    return store.add(db, image=IMAGE, canvas_png=b"png", probs=np.eye(10, dtype=np.float32)[read], label=label,
                     model=config.DEFAULT_MODEL, session=session, **more)


def run_page(page: str, session: str = "me", **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=TIMEOUT)
    at.session_state["session_id"] = session
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def sign_in(at: AppTest, passphrase: str) -> AppTest:
    at.sidebar.text_input(key="teacher_attempt").input(passphrase)
    next(b for b in at.sidebar.button if b.label == "Sign in").click()
    return at.run()


def test_both_pages_without_drawings(db):
    for page in ("my_drawings", "classroom"):
        at = run_page(page)
        assert not at.exception
        assert "No labelled drawings yet" in at.info[0].value


def test_my_drawings_and_class_count_what_was_labelled(db):
    for label in (1, 1, 7):  # two right, one a "7" read as 1
        add(db, label, read=1)
    at = run_page("my_drawings")
    assert not at.exception
    assert [m.value for m in at.metric[:3]] == ["3", "66.7%", "1"]
    assert "None of these drawings has a stored canvas" in at.info[0].value
    at = run_page("classroom")
    assert not at.exception
    assert [m.value for m in at.metric] == ["3", "67%", "1", "0", "–", "0"]
    assert at.metric[4].delta == "0 of 0"
    assert at.dataframe[0].value.iloc[0].tolist() == [7, 1, 1]


def test_my_drawings_compares_with_the_naive_resize_kept_with_each_drawing(db):
    from digits.inference import load_classifier

    classifier = load_classifier()
    drawn = [  # a large 1 and 7, and the same 1 and 7 small in corners
        (ONE, 1), (stroke_canvas([(60, 70), (60, 250), (270, 130)]), 7),
        (stroke_canvas([(8, 296), (56, 296)], width=6), 1), (stroke_canvas([(262, 10), (262, 50), (310, 26)], width=6), 7),
    ]
    ids = []
    for rgba, label in drawn:
        image, squeezed = canvas_to_mnist(rgba), naive_resize(rgba)
        ids.append(store.add(db, image=image, canvas_png=store.encode_canvas(rgba), label=label, session="s",
                             model=config.DEFAULT_MODEL, probs=classifier.predict_proba(image[None])[0],
                             squeezed=squeezed, naive_probs=classifier.predict_proba(squeezed[None])[0]))
    add(db, 7, read=7)  # stored before canvases were kept: no squeezed image
    labels = np.array([label for _, label in drawn])
    ours = classifier.predict_proba(np.stack([canvas_to_mnist(c) for c, _ in drawn])).argmax(axis=1) == labels
    naive = classifier.predict_proba(np.stack([naive_resize(c) for c, _ in drawn])).argmax(axis=1) == labels

    at = run_page("my_drawings")
    assert not at.exception
    cards = {m.label: m.value for m in at.metric}
    assert cards["Read right as this app prepares them"] == f"{ours.mean():.1%}"
    assert cards["Read right with the whole canvas squeezed to 28 × 28"] == f"{naive.mean():.1%}"
    assert any("The same 4 drawings (1 stored without a canvas are left out)" in c.value for c in at.caption)
    assert ours.all() and not naive[2:].all()  # the point of the section: small corner drawings
    lost = [ids[i] for i in np.flatnonzero(ours & ~naive)][::-1]  # newest first
    shown = [image.caption for element in at.get("image") for image in element.proto.imgs]
    assert shown == [f"#{i}: {labels[ids.index(i)]}" for i in lost]


def test_another_model_reads_every_drawing_once_and_keeps_it(db):
    for label in range(10):
        add(db, label, read=label)
    assert store.count_unread(db, "seed") == 10
    at = run_page("my_drawings", model_choice="seed")
    assert not at.exception and at.metric[0].value == "10"
    assert store.count_unread(db, "seed") == 0  # kept: the next visit reads nothing again


def test_galleries_show_one_page_at_a_time(db):
    ids = [add(db, 3, read=5) for _ in range(30)]
    at = run_page("my_drawings")
    captions = lambda: [i.caption for e in at.get("image") for i in e.proto.imgs]  # noqa: E731
    assert len(captions()) == 24 and captions()[0].startswith(f"#{ids[-1]}:")  # newest first
    at.button(key=f"wrong_{config.DEFAULT_MODEL}_False_older").click().run()
    assert [c.split(":")[0] for c in captions()] == [f"#{i}" for i in ids[5::-1]]
    at.button(key=f"wrong_{config.DEFAULT_MODEL}_False_newer").click().run()
    assert len(captions()) == 24


def test_a_student_deletes_only_their_own_drawings_whatever_the_session_holds(db, monkeypatch):
    monkeypatch.setenv(teacher.KEY_ENV, "owl")
    others = [add(db, 1, read=1, session="other") for _ in range(3)]
    mine = add(db, 2, read=2, session="me")
    # A crafted value under the teacher's key is not the teacher's mark.
    at = run_page("my_drawings", teacher_unlocked=True)
    assert any("Only the teacher can delete other people's" in c.value for c in at.caption)
    assert at.dataframe[-1].value["#"].tolist() == [mine]  # the delete picker lists their own only
    at.checkbox(key="sure").check().run()
    assert at.checkbox(key="sure").label == "Yes, delete every drawing of this session"
    at.button(key="delete_all").click().run()
    assert not at.exception
    assert sorted(store.load(db).ids) == others


def test_the_teacher_signs_in_and_deletes_everyone_s_drawings(db, monkeypatch):
    monkeypatch.setenv(teacher.KEY_ENV, "owl")
    for session in ("a", "b", "me"):
        add(db, 4, read=4, session=session)
    at = run_page("my_drawings")
    start = time.monotonic()
    at = sign_in(at, "owls")
    assert time.monotonic() - start >= teacher.WRONG_TRY_DELAY  # a wrong try waits
    assert any("not the teacher passphrase" in e.value for e in at.sidebar.error)
    at = sign_in(at, "owl")
    assert any("Signed in as the teacher" in s.value for s in at.sidebar.success)
    at.checkbox(key="sure").check().run()
    assert at.checkbox(key="sure").label == "Yes, delete every stored drawing"
    at.button(key="delete_all").click().run()
    assert not at.exception and len(store.load(db)) == 0


def test_without_a_passphrase_nobody_deletes_others_and_the_page_says_how_to_set_one(db):
    add(db, 4, read=4, session="other")
    at = run_page("my_drawings")
    assert any(teacher.HOW_TO_SET in c.value for c in at.caption)
    at.checkbox(key="sure").check().run()
    at.button(key="delete_all").click().run()
    assert len(store.load(db)) == 1


def test_only_the_teacher_starts_a_lesson_and_every_projector_follows(db, monkeypatch):
    monkeypatch.setenv(teacher.KEY_ENV, "owl")
    add(db, 1, read=1)
    projector = run_page("classroom", session="projector")
    assert projector.metric[0].value == "1"
    student = run_page("classroom", session="student")
    assert not [b for b in student.button if b.key == "new_lesson"]
    at = sign_in(run_page("classroom", session="teacher"), "owl")
    at.button(key="new_lesson").click().run()
    assert not at.exception and "No labelled drawings yet" in at.info[0].value
    projector.run()
    assert "No labelled drawings yet" in projector.info[0].value  # the lesson started elsewhere
    add(db, 7, read=1)
    projector.run()
    assert [m.value for m in projector.metric][:3] == ["1", "0%", "1"]


def test_the_class_counts_drawings_that_are_not_digits_apart(db):
    add(db, 1, read=1, session="a", flagged=False)
    add(db, 7, read=1, session="a", flagged=True)  # a 7, read as 1 and flagged as no digit at all
    add(db, config.NOT_A_DIGIT, read=4, session="b", flagged=True)  # caught
    add(db, config.NOT_A_DIGIT, read=0, session="c", flagged=False)  # missed: the network read a 0
    projector = run_page("classroom")
    assert not projector.exception
    cards = {m.label: m.value for m in projector.metric}
    assert cards == {"Drawings": "4", "Read right": "50%", "Students": "3",  # right: 1 of the 2 digits
                     "Not a digit": "2", "Caught by the network": "50%", "Digits it took for none": "1"}
    assert projector.metric[4].delta == "1 of 2"
    assert projector.dataframe[0].value.values.tolist() == [[7, 1, 1]]  # the non-digits are no digit's mistake
    add(db, config.NOT_A_DIGIT, read=3, session="d", flagged=True)
    projector.run()  # a running total: only the new drawing is read, and counted apart
    cards = {m.label: m.value for m in projector.metric}
    assert (cards["Drawings"], cards["Read right"], cards["Caught by the network"]) == ("5", "50%", "67%")
    assert projector.metric[4].delta == "2 of 3"


def test_a_term_s_counts_are_written_for_the_back_of_the_room(db):
    """Thousands with separators, and the share the network caught large with its counts under it: "2676 of 2959"
    in large type overflowed its card at a term's size."""
    from support.fill import fill

    fill(db, 2500)
    projector = run_page("classroom")
    assert not projector.exception
    cards = {m.label: m for m in projector.metric}
    assert cards["Drawings"].value == "2,500" and cards["Students"].value == "63"  # fill: 40 drawings a session
    caught, of = (int(n.replace(",", "")) for n in cards["Caught by the network"].delta.split(" of "))
    assert cards["Caught by the network"].value == f"{caught / of:.0%}" and of == int(cards["Not a digit"].value)
    mistakes = [img.caption for img in projector.get("image")[0].proto.imgs]  # the 12 latest, newest first
    assert len(mistakes) == 12 and all(re.fullmatch(r"\d read as \d", c) for c in mistakes), mistakes


def test_a_class_of_only_drawings_that_are_not_digits(db):
    add(db, config.NOT_A_DIGIT, read=4, flagged=True)
    at = run_page("classroom")
    assert not at.exception
    assert [m.value for m in at.metric] == ["1", "–", "1", "1", "100%", "0"]
    assert at.metric[4].delta == "1 of 1"


def test_the_class_tally_reads_only_the_drawings_added_since_its_last_refresh(db, monkeypatch):
    first = [add(db, 1, read=1) for _ in range(3)]
    asked, counted = [], []
    since, answers_since = store.since, store.answers_since
    monkeypatch.setattr(store, "since", lambda db, after_id, **kw: asked.append(after_id) or since(db, after_id, **kw))
    monkeypatch.setattr(store, "answers_since", lambda db, after_id: counted.append(after_id) or answers_since(db, after_id))
    projector = run_page("classroom")
    newer = add(db, 2, read=2)
    projector.run()
    assert counted == [0]  # the first visit counted the term from the store's counts, once
    assert asked == [first[-1], first[-1]]  # then each refresh asked only for what came after
    assert projector.metric[0].value == "4" and newer > first[-1]


def test_the_class_tally_is_recounted_when_a_counted_drawing_is_relabelled_or_deleted(db):
    ids = [add(db, 1, read=1, session="a"), add(db, 7, read=1, session="b"), add(db, 2, read=2, session="b")]
    projector = run_page("classroom")
    assert [m.value for m in projector.metric[:3]] == ["3", "67%", "2"]
    assert store.relabel(db, ids[1], 1, session=None)  # the "7" was a 1 after all
    projector.run()
    assert [m.value for m in projector.metric[:3]] == ["3", "100%", "2"]
    assert store.relabel(db, ids[2], config.NOT_A_DIGIT, session=None)
    projector.run()
    assert [m.value for m in projector.metric] == ["3", "100%", "2", "1", "0%", "0"]
    assert store.delete(db, [ids[0]], session=None) == 1
    projector.run()
    assert [m.value for m in projector.metric] == ["2", "100%", "1", "1", "0%", "0"]


def test_a_connections_drawings_secret_puts_the_class_in_that_database(db, tmp_path):
    elsewhere = tmp_path / "shared" / "class.sqlite"
    elsewhere.parent.mkdir()
    add(store.connect(elsewhere), 3, read=3, session="other")
    at = AppTest.from_file(str(ROOT / "pages" / "classroom.py"), default_timeout=TIMEOUT)
    at.secrets["connections"] = {"drawings": {"url": f"sqlite:///{elsewhere}"}}
    at.run()
    assert not at.exception
    assert at.metric[0].value == "1"  # the drawing in the database the secret names, not in DATA_DIR's


def test_the_teacher_passphrase_can_come_from_secrets(db):
    at = AppTest.from_file(str(ROOT / "pages" / "my_drawings.py"), default_timeout=TIMEOUT)
    at.secrets[teacher.KEY_SECRET] = "owl"
    add(db, 4, read=4, session="other")
    at.run()
    at = sign_in(at, "owl")
    assert any("Signed in as the teacher" in s.value for s in at.sidebar.success)


def test_my_drawings_counts_drawings_that_are_not_digits_apart_and_shows_them(db):
    add(db, 2, read=2, session="me")
    add(db, 2, read=5, session="me")
    caught = add(db, config.NOT_A_DIGIT, read=3, session="me", flagged=True)
    missed = add(db, config.NOT_A_DIGIT, read=8, session="me", flagged=False)
    at = run_page("my_drawings")
    assert not at.exception
    cards = {m.label: m.value for m in at.metric}
    right = cards[f"Read right by {config.DEFAULT_MODEL}"]
    assert (cards["Drawings"], right, cards["Mistakes"], cards["Not a digit"]) == ("4", "50.0%", "1", "2")  # two 2s
    assert any(h.value == "Not a digit: 2" for h in at.subheader)
    shown = [i.caption for e in at.get("image") for i in e.proto.imgs]
    assert shown[:2] == [f"#{missed}: read as 8", f"#{caught}: flagged when drawn"]  # then the wrong 2
    assert len(shown) == 3 and shown[2].startswith("#2: drawn 2 · 5: 100%")  # "wrong": digits only
    assert at.dataframe[-1].value["drawn"].tolist() == ["not a digit", "not a digit", "2", "2"]


def test_my_drawings_relabels_the_selected_to_and_from_not_a_digit(db):
    first, second = add(db, 2, read=2, session="me"), add(db, config.NOT_A_DIGIT, read=5, session="me")
    at = run_page("my_drawings")
    at.session_state["delete_table"] = {"selection": {"rows": [0, 1], "columns": []}}  # newest first: both
    at.run()
    at.button_group(key="relabel_to").set_value(config.NOT_A_DIGIT).run()
    at.button(key="relabel").click().run()
    assert not at.exception
    assert store.load(db).labels.tolist() == [config.NOT_A_DIGIT, config.NOT_A_DIGIT]
    at.session_state["delete_table"] = {"selection": {"rows": [1], "columns": []}}  # the older one, `first`
    at.run()
    at.button_group(key="relabel_to").set_value(7).run()
    at.button(key="relabel").click().run()
    stored = store.load(db)
    assert dict(zip(stored.ids.tolist(), stored.labels.tolist())) == {first: 7, second: config.NOT_A_DIGIT}
