"""Model inputs built in kzclassify and shared by training (train/serve parity by construction)."""
from kzclassify._features import cue_tokens, lead_and_body, type_input


def test_dateline_joins_the_next_paragraph_as_lead():
    assert lead_and_body("Алматы қ.\nМемлекет басшысы құттықтады.\nЕкінші.") == (
        "Алматы қ. Мемлекет басшысы құттықтады.", "Екінші.")
    assert lead_and_body("Құрметті отандастар!\nМерекемен.") == ("Құрметті отандастар!", "Мерекемен.")
    assert lead_and_body("Мемлекет басшысы Жапония Премьер-министрімен кездесті.\nЕкі тарап.")[0].endswith("кездесті.")


def test_type_input_tags_lead_cues_and_words_lowercased():
    x = type_input("Мемлекет басшысы Жапония Премьер-министрімен телефон арқылы сөйлесті.\nЕкі тарап ТАЛҚЫЛАДЫ.")
    assert x.startswith("kw_phone_call_телефонарқылы kw_phone_call l_мемлекет")
    assert "талқылады" in x and x == x.lower()
    assert cue_tokens("марапаттады және кездесті").split()[:2] == ["kw_award_марапат", "kw_award"]


def test_type_input_ignores_whitespace_differences():
    a = "Мемлекет  басшысы кездесті.\n\n  Екі   тарап."
    assert type_input(a) == type_input("Мемлекет басшысы кездесті.\nЕкі тарап.")
