"""The PERSON layer's precision rules (kzclassify/_person_layer.py): what ``Analysis.people`` keeps.

Each case is a sentence shape of the corpus the issue found wrong (or a right one the rules must keep).
"""
import pytest

from kzclassify._rules import rule_analysis


def _mentions(text):
    a = rule_analysis(text)
    return {(m[2], p.name) for p in a.people for m in p.mentions}, a


@pytest.mark.parametrize("text, wrong", [
    # a decree phrase read as a person named "Жарлығ"
    ("Наурыз мерекесі қарсаңында Қазақстан Республикасы Президентінің Жарлығымен мемлекетіміздің "
     "әлеуметтік-экономикалық дамуына қосқан үлесі үшін бір топ азамат марапатталды.", "Жарлығ"),
    # inside the name of an order
    ("Мемлекет басшысы Асқар Маминді «Қазақстан Республикасының Тұңғыш Президенті – Елбасы Нұрсұлтан "
     "Назарбаев» орденімен марапаттады.", "Нұрсұлтан Назарбаев»"),
    # inside the name of a body
    ("«Барыс» орденімен ақын, «Сәкен Сейфуллиннің мұражайы» МКҚК директоры Н.Айтұлы марапатталды.",
     "Сәкен Сейфуллиннің"),
    # an office named after the title
    ("Марапатталғандар: МКҚК директоры Н.Айтұлы, Президент Іс басқармасы Медициналық орталығының бас дәрігері "
     "Е.Ахметов.", "Президент"),
    # another president's title before his name: not the sitting president
    ("Нұрсұлтан Назарбаев Ташкентте болды. Ынтымақтастыққа серпін беру мақсатында тараптар Президент Шавкат "
     "Мирзиёевтің Қазақстанға сапарын талқылады.",
     "Президент"),
])
def test_what_names_no_one_is_no_mention(text, wrong):
    mentions, _ = _mentions(text)
    assert not any(said.rstrip("»") == wrong.rstrip("»") or name == wrong for said, name in mentions), mentions


def test_people_and_quotes_that_stay():
    text = ("Мемлекет басшысы Фариза Оңғарсынованың ұлттық әдебиетке қосқан үлесін атап өтті.\n"
            "«Қасым-Жомарт Тоқаев біздің досымыз», – деді Шавкат Мирзиёев.")
    mentions, a = _mentions(text)
    assert ("Мемлекет басшысы", "Қасым-Жомарт Тоқаев") in mentions  # the subject, with an object after it
    assert any(name == "Фариза Оңғарсынова" for _, name in mentions)
    assert ("Қасым-Жомарт Тоқаев", "Қасым-Жомарт Тоқаев") in mentions  # a name inside a quote in «…» stays
    [q] = a.quotes
    assert a.people[q.person].name == q.speaker == "Шавкат Мирзиёев"  # quote → person indexes survive the filter
