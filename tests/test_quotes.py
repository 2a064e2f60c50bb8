"""Quote detection and speaker attribution on small inline Kazakh examples (guide sections 2–3)."""
import pytest

import kzclassify
from kzclassify._quotes import find_quotes
from kzclassify._speakers import era_president, nominative, resolve

TOKAYEV, NAZARBAYEV = "Қасым-Жомарт Тоқаев", "Нұрсұлтан Назарбаев"


def quotes(text):
    qs = kzclassify.extract_quotes(text)
    for q in qs:
        assert text[q.start:q.end] == q.text
        if q.mention_start >= 0:
            assert text[q.mention_start:q.mention_end] == q.speaker_mention
    return qs


def test_dash_paragraph_with_tail():
    t = ("Қасым-Жомарт Тоқаев жаңа ғимаратты аралап көрді.\n"
         "– Бұл тамаша ғимарат. Біз ынтымақтастықты қолдаймыз, – деді Мемлекет басшысы.")
    [q] = quotes(t)
    assert q.text == "Бұл тамаша ғимарат. Біз ынтымақтастықты қолдаймыз"
    assert q.cue.startswith(", – деді") and q.speaker_mention == "Мемлекет басшысы"
    assert q.speaker == TOKAYEV and q.kind == "dash"


def test_exclamation_stays_inside_the_quote_comma_does_not():
    t = "Нұрсұлтан Назарбаев сөз сөйледі.\n– Алға, Қазақстан! – деді Нұрсұлтан Назарбаев."
    [q] = quotes(t)
    assert q.text == "Алға, Қазақстан!" and q.speaker == NAZARBAYEV


def test_dep_atap_otti_tail():
    t = "Кездесуде Нұрсұлтан Назарбаев сөйледі.\n– Біз көп жұмыс атқардық, – деп атап өтті Нұрсұлтан Назарбаев."
    [q] = quotes(t)
    assert q.text == "Біз көп жұмыс атқардық"
    assert q.speaker_mention == "Нұрсұлтан Назарбаев" and q.speaker == NAZARBAYEV


def test_telegram_quote_goes_to_its_author():
    t = ("Мемлекет басшысы Қасым-Жомарт Тоқаев Жапония Премьер-министріне көңіл айту жеделхатын жолдады.\n"
         "– Қайғыларыңызға ортақпын, – деп жазылған жеделхатта.")
    [q] = quotes(t)
    assert q.text == "Қайғыларыңызға ортақпын" and q.kind == "telegram"
    assert q.speaker == TOKAYEV


def test_guillemet_telegram_quote():
    t = ("Нұрсұлтан Назарбаев Қытай Төрағасы Си Цзиньпинге көңіл айтты.\n"
         "«Қытай халқына күш-қуат тілеймін. Шаралар апаттың салдарын еңсеруге мүмкіндік береді», – делінген жеделхатта.")
    [q] = quotes(t)
    assert q.text.startswith("Қытай халқына") and q.text.endswith("мүмкіндік береді")
    assert q.speaker == NAZARBAYEV


def test_dash_paragraph_with_speaker_named_in_the_sentence_before():
    t = ("Қазақстан Президенті Қасым-Жомарт Тоқаев форумда сөз сөйлеп, жастарға үндеу тастады.\n"
         "– Сіздер еліміздің болашағысыздар.")
    [q] = quotes(t)
    assert q.text == "Сіздер еліміздің болашағысыздар." and q.cue == ""
    assert q.speaker == TOKAYEV


def test_paragraph_without_opening_dash_closed_by_dedi():
    t = "Кездесу өтті.\nЕкі ел арасындағы сауда артып келеді, – деді Нұрсұлтан Назарбаев."
    [q] = quotes(t)
    assert q.text == "Екі ел арасындағы сауда артып келеді" and q.speaker == NAZARBAYEV


@pytest.mark.parametrize("tail", [", – деді", " , – деді", "  ,– деді", " , деді"])
def test_guillemet_quote_with_a_space_typed_before_the_comma(tail):
    """«…» , – деді ...: a space before the comma (sloppy typing, scraped text) changes nothing; before, the
    paragraph up to the tail came out as one dash quote with the guillemets inside."""
    t = f"Мемлекет басшысы кездесу өткізді. «Біз ынтымақтастықты әрі қарай бірге дамытамыз»{tail} Қасым-Жомарт Тоқаев."
    [q] = quotes(t)
    assert (q.text, q.kind, q.speaker) == ("Біз ынтымақтастықты әрі қарай бірге дамытамыз", "guillemet", TOKAYEV)


def test_a_quote_introduced_by_a_colon_and_a_dash_inside_the_paragraph():
    """"Мемлекет басшысы: – Біз …, – деді.": the quote starts after the dash; who speaks is named before it."""
    [q] = quotes("Қасым-Жомарт Тоқаев жиынды ашты. Мемлекет басшысы: – Біз бірге боламыз, – деді.")
    assert (q.text, q.kind, q.speaker) == ("Біз бірге боламыз", "dash", TOKAYEV)


def test_guillemet_quote_after_dedi_colon():
    t = "Мемлекет басшысы Қасым-Жомарт Тоқаев деді: «Біз бірге жұмыс істейміз». Кездесу жалғасты."
    [q] = quotes(t)
    assert q.text == "Біз бірге жұмыс істейміз" and q.speaker == TOKAYEV


@pytest.mark.parametrize("text", [
    "Мемлекет басшысы «Рухани жаңғыру» бағдарламасының маңызын атап өтті.",
    "Ол «Нұр Отан» партиясының съезіне қатысты және «Достық» орденін табыс етті.",
    "Президент елдегі реформалардың маңызды екенін атап өтті.",
    "Мемлекет басшысы – Жоғарғы Бас қолбасшы әскери оқу-жаттығуға қатысты.",
    "Форум қорытындысы бойынша мынадай құжаттарға қол қойылды:\n– Ынтымақтастық туралы меморандум;\n– Іс-қимыл жоспары;",
])
def test_not_quotes(text):
    assert find_quotes(text) == []


def test_role_introduced_earlier_resolves_to_the_named_person():
    t = ("Мемлекет басшысы Атырау облысының әкімі Нұрлан Ноғаевты қабылдады.\n"
         "– Өңірде 89 жоба орындалып жатыр, – деді облыс әкімі.")
    [q] = quotes(t)
    assert q.speaker_mention == "облыс әкімі"
    assert q.speaker == "Нұрлан Ноғаев"


def test_unknown_role_stays_a_role_with_a_low_score():
    t = "Кездесу өтті.\n– Жұмыс жалғасады, – деді дипломат."
    [q] = quotes(t)
    assert q.speaker == "дипломат" and q.score < 0.5


@pytest.mark.parametrize("text,president", [
    # Tokayev named as President: his era
    ("Мемлекет басшысы Қасым-Жомарт Тоқаев Нұр-Сұлтанда кездесу өткізді.\n– Жақсы, – деді Президент.", TOKAYEV),
    # Nazarbayev named as President, Tokayev only as Senate chairman: Nazarbayev's era
    ("Нұрсұлтан Назарбаев Сенат Төрағасы Қасым-Жомарт Тоқаевты қабылдады.\n– Жақсы, – деді Мемлекет басшысы.", NAZARBAYEV),
    # no name: the capital called Нұр-Сұлтан is a Tokayev-era cue
    ("Нұр-Сұлтан қаласында жиын өтті.\n– Жақсы, – деді Қазақстан Президенті.", TOKAYEV),
])
def test_title_resolves_by_era(text, president):
    [q] = quotes(text)
    assert q.speaker == president


def test_elbasy_is_always_nazarbayev():
    t = "Мемлекет басшысы Қасым-Жомарт Тоқаев Елбасымен кездесті.\n– Жақсы, – деді Елбасы."
    [q] = quotes(t)
    assert q.speaker == NAZARBAYEV and q.resolved_by == "first-president"


def test_inflected_names_are_put_in_nominative():
    t = "Кездесуде Қасым-Жомарт Тоқаевқа баяндалды."
    assert nominative("Тоқаевқа", t) == "Тоқаев"
    assert resolve("Назарбаевтың", "Нұрсұлтан Назарбаев келді. Назарбаевтың сөзі.").speaker == NAZARBAYEV
    assert resolve("Александр Лукашенконың", "Александр Лукашенко жазды.").speaker == "Александр Лукашенко"


def test_initials_join_the_fullest_name_in_the_release():
    t = "Бас прокурор Жақып Асанов баяндады.\n– Жұмыс жалғасады, – деді Ж.Асанов."
    [q] = quotes(t)
    assert q.speaker == "Жақып Асанов"


def test_era_president_is_undecided_without_date_name_or_cue():
    assert era_president("Мемлекет басшысы жеделхат жолдады.") is None


def test_offsets_index_the_callers_string_even_with_odd_whitespace():
    t = "  Кездесу   өтті.\r\n\r\n–   Біз   дайынбыз,  –  деді   Нұрсұлтан Назарбаев.  "
    [q] = quotes(t)
    assert t[q.start:q.end] == q.text == "Біз   дайынбыз"


@pytest.mark.parametrize("marks", ['""', "“”", "„“"])
def test_other_double_quotation_marks_are_read_as_guillemets(marks):
    """Straight and curly quotation marks around speech are a guillemet quote (the annotators marked a
    straight-quoted letter as a quote); around a name they stay a name."""
    o, c = marks
    t = f"Мемлекет басшысы кездесу өткізді. {o}Біз ынтымақтастықты әрі қарай бірге дамытамыз{c}, – деді Қасым-Жомарт Тоқаев."
    [q] = quotes(t)
    assert (q.text, q.kind, q.speaker) == ("Біз ынтымақтастықты әрі қарай бірге дамытамыз", "guillemet", TOKAYEV)
    assert quotes(f"Мемлекет басшысы {o}Kaspi.kz{c} компаниясының басшысымен кездесті.") == []
