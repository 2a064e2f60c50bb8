"""Model inputs built in kzclassify and shared by training (train/serve parity by construction)."""
from kzclassify._features import cue_tokens, lead_and_body, type_input


def test_dateline_joins_the_next_paragraph_as_lead():
    assert lead_and_body("Алматы қ.\nМемлекет басшысы құттықтады.\nЕкінші.") == (
        "Алматы қ. Мемлекет басшысы құттықтады.", "Екінші.")
    assert lead_and_body("Құрметті отандастар!\nМерекемен.") == ("Құрметті отандастар!", "Мерекемен.")
    assert lead_and_body("Мемлекет басшысы Жапония Премьер-министрімен кездесті.\nЕкі тарап.")[0].endswith("кездесті.")


def test_type_input_tags_lead_cues_and_words_lowercased():
    x = type_input("Мемлекет басшысы Жапония Премьер-министрімен телефон арқылы сөйлесті.\nЕкі тарап ТАЛҚЫЛАДЫ.")
    assert x.startswith("kw_phone_call_телефонарқылы kw_phone_call op_мемлекет")
    assert " top_phone_call ev_phone_call l_мемлекет " in x
    assert "талқылады" in x and x == x.lower()
    assert cue_tokens("марапаттады және кездесті").split()[:2] == ["kw_award_марапат", "kw_award"]


def test_type_input_ignores_whitespace_differences():
    a = "Мемлекет  басшысы кездесті.\n\n  Екі   тарап."
    assert type_input(a) == type_input("Мемлекет басшысы кездесті.\nЕкі тарап.")


def test_lead_structure_tokens_read_opening_predicate_and_cue_classes():
    from kzclassify._features import lead_tokens
    t = lead_tokens("кездесуде тараптар ынтымақтастықты талқылады. президент ризашылығын білдірді.",
                    "жиын барысында ол сөйледі.\nсапар барысында көрді.").split()
    # the opening words and the first word's stem; the first sentence's closing predicate; later sentences' ends
    assert {"op_кездесуде", "op_кездесуде_тараптар", "os_кезде"} <= set(t)
    assert {"pr_талқылады", "pr_ынтымақтастықты_талқылады", "ps_білдірді"} <= set(t)
    # which cue class fires where: opening (ko_), first sentence (k1_), body (kb_); none in the predicate
    assert {"ko_meeting", "k1_meeting", "kb_event"} <= set(t) and not any(x.startswith("kp_") for x in t)
    # events named as the setting, paragraph openings, the guide's precedence over the lead's cues
    assert {"fr_жиын_барысында", "fr_сапар_барысында", "bo_жиын", "bo_сапар", "top_meeting"} <= set(t)


def test_precedence_token_follows_the_guide_order_and_the_predicate_is_verb_final():
    x = type_input("Мемлекет басшысы орденімен марапаттау рәсімінде сөз сөйледі.\nЕкінші.").split()
    assert "top_award" in x and "kp_event" in x and "pr_сөйледі" in x  # award before ceremony before event
    assert "top_none" in type_input("Балабақша ғимаратының аумағы 4 мың шаршы метр.").split()


def test_dateline_is_not_the_first_sentence():
    x = type_input("Алматы қ.\nМемлекет басшысы Н.Әбіқаевты қабылдады. Екінші сөйлем.").split()
    assert "op_мемлекет" in x and "pr_қабылдады" in x and "ps_сөйлем" in x
    assert "pr_қ" not in x and "ps_қабылдады" not in x


def test_structure_false_is_the_earlier_input():
    text = "Мемлекет басшысы Жапония елшісімен кездесті.\nКездесу барысында тараптар талқылады."
    old = type_input(text, structure=False)
    assert old == ("kw_meeting_кездесті kw_meeting l_мемлекет l_басшысы l_жапония l_елшісімен l_кездесті "
                   "мемлекет басшысы жапония елшісімен кездесті. кездесу барысында тараптар талқылады.")
    assert type_input(text).endswith(old.split("kw_meeting ", 1)[1])


def test_type_input_on_degenerate_and_long_text_is_defined_and_linear():
    import time
    assert type_input("") == "top_none ev_none" and type_input("Жарайды").startswith("op_жарайды")
    t0 = time.perf_counter()
    type_input("сөз " * 20000 + "\n" + "кездесу барысында " * 20000)
    small = time.perf_counter() - t0
    t0 = time.perf_counter()
    type_input("сөз " * 200000 + "\n" + "кездесу барысында " * 200000)
    # ten times the text must not cost anything like a hundred times (quadratic) the time
    assert time.perf_counter() - t0 < 40 * max(small, 1e-3)


def test_event_token_reads_the_event_not_the_frame():
    # during a working trip, the akim reported: the trip is the frame, the report (meeting) the event
    x = type_input("Ақмола облысына жасаған жұмыс сапары барысында Қасым-Жомарт Тоқаевқа аймақ әкімі "
                   "өңірдегі жобалар туралы есеп берді.\nЕкінші.").split()
    assert "ev_meeting" in x and "fr_сапары_барысында" in x
    # a cue only inside the frame phrase leaves no event cue
    y = type_input("Давостағы форум аясында Мемлекет басшысы банк президентімен ынтымақтастықты талқылады.\nЕкі.")
    assert "ev_none" in y.split() and "top_event" in y.split()


def test_last_paragraph_says_what_the_release_was():
    x = type_input("Мемлекет басшысы Украина Президентімен ынтымақтастықты талқылады.\nЕкі тарап келісті.\n"
                   "Телефон арқылы сөйлесуге Украина жағы бастамашы болды.").split()
    assert {"lo_телефон", "kl_phone_call", "ev_none"} <= set(x)
    assert not any(t.startswith(("lo_", "kl_")) for t in type_input("Мемлекет басшысы Жапония елшісімен кездесті.").split())
