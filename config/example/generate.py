"""Generate the example school's CSV files (invented people; deterministic: fixed seed).

    .venv/bin/python config/example/generate.py

Writes classes, pupils, parents, teachers, subjects, assignments, timetable, changes and
substitutions beside this script (``school.toml`` and ``plans/`` are written by hand). The
timetable is built by a small backtracking search so that no teacher is in two places at once.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
rng = random.Random(20261129)


def words(text: str) -> list[str]:
    return text.split()


SUBJECTS = [  # id, name, marked
    ("russian", "Русский язык", True),
    ("literature", "Литература", True),
    ("english", "Английский язык", True),
    ("math", "Математика", True),
    ("algebra", "Алгебра", True),
    ("geometry", "Геометрия", True),
    ("probability", "Вероятность и статистика", True),
    ("informatics", "Информатика", True),
    ("history", "История", True),
    ("social", "Обществознание", True),
    ("geography", "География", True),
    ("biology", "Биология", True),
    ("physics", "Физика", True),
    ("chemistry", "Химия", True),
    ("music", "Музыка", True),
    ("art", "Изобразительное искусство", True),
    ("technology", "Труд (технология)", True),
    ("pe", "Физическая культура", True),
    ("odnknr", "Основы духовно-нравственной культуры народов России", False),
    ("obzr", "Основы безопасности и защиты Родины", True),
    ("project", "Индивидуальный проект", True),
]

TEACHERS = [  # id, full name
    ("sokolova", "Соколова Анна Викторовна"),
    ("morozova", "Морозова Елена Николаевна"),
    ("kuznetsov", "Кузнецов Дмитрий Андреевич"),
    ("volkova", "Волкова Ирина Сергеевна"),
    ("lebedeva", "Лебедева Ольга Павловна"),
    ("kovaleva", "Ковалёва Мария Александровна"),
    ("orlov", "Орлов Сергей Викторович"),
    ("nikitina", "Никитина Татьяна Ивановна"),
    ("belova", "Белова Наталья Юрьевна"),
    ("zaitsev", "Зайцев Алексей Михайлович"),
    ("fedorova", "Фёдорова Светлана Олеговна"),
    ("romanova", "Романова Галина Петровна"),
    ("pavlova", "Павлова Юлия Андреевна"),
    ("grigoriev", "Григорьев Николай Васильевич"),
    ("stepanov", "Степанов Андрей Игоревич"),
]

# class → (grade, class teacher, pupils, lessons per weekday, {subject: (hours, [teachers])})
CLASSES: dict[str, tuple[int, str, int, list[int], dict[str, tuple[int, list[str]]]]] = {
    "5А": (
        5,
        "sokolova",
        26,
        [6, 6, 5, 5, 5],
        {
            "russian": (5, ["sokolova"]),
            "literature": (3, ["sokolova"]),
            "english": (3, ["lebedeva"]),
            "math": (5, ["kuznetsov"]),
            "history": (2, ["orlov"]),
            "geography": (1, ["nikitina"]),
            "biology": (1, ["belova"]),
            "music": (1, ["romanova"]),
            "art": (1, ["pavlova"]),
            "technology": (2, ["grigoriev"]),
            "pe": (2, ["stepanov"]),
            "odnknr": (1, ["orlov"]),
        },
    ),
    "7Б": (
        7,
        "kuznetsov",
        25,
        [6, 6, 6, 6, 6],
        {
            "russian": (4, ["morozova"]),
            "literature": (2, ["morozova"]),
            "english": (3, ["lebedeva", "kovaleva"]),  # two groups
            "algebra": (3, ["kuznetsov"]),
            "geometry": (2, ["kuznetsov"]),
            "probability": (1, ["kuznetsov"]),
            "informatics": (1, ["fedorova"]),
            "history": (2, ["orlov"]),
            "social": (1, ["orlov"]),
            "geography": (2, ["nikitina"]),
            "biology": (1, ["belova"]),
            "physics": (2, ["zaitsev"]),
            "music": (1, ["romanova"]),
            "art": (1, ["pavlova"]),
            "technology": (2, ["grigoriev"]),
            "pe": (2, ["stepanov"]),
        },
    ),
    "10А": (
        10,
        "orlov",
        22,
        [7, 6, 6, 6, 5],
        {
            "russian": (2, ["morozova"]),
            "literature": (3, ["morozova"]),
            "english": (3, ["kovaleva"]),
            "algebra": (4, ["volkova"]),
            "geometry": (3, ["volkova"]),
            "probability": (1, ["volkova"]),
            "informatics": (1, ["fedorova"]),
            "history": (2, ["orlov"]),
            "social": (2, ["orlov"]),
            "geography": (1, ["nikitina"]),
            "physics": (2, ["zaitsev"]),
            "chemistry": (1, ["belova"]),
            "biology": (1, ["belova"]),
            "pe": (2, ["stepanov"]),
            "obzr": (1, ["stepanov"]),
            "project": (1, ["fedorova"]),
        },
    ),
}

MALE_SURNAMES = words(
    """Иванов Смирнов Кузьмин Попов Васильев Петров Михайлов Новиков Фролов Алексеев
Семёнов Егоров Козлов Николаев Андреев Макаров Захаров Соловьёв Борисов Яковлев Воробьёв Сергеев
Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин Виноградов Медведев
Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов Сидоров
Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов
Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Щербаков
Назаров Калинин Исаев Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов Голубев
Кудрявцев Прохоров Наумов Потапов Журавлёв Трофимов Леонов Соболев Ермаков Колесников Гончаров
Покровский Никольский Троицкий"""
)
BOYS = words(
    """Александр Максим Артём Михаил Иван Дмитрий Даниил Кирилл Андрей Егор Никита Илья
Алексей Матвей Тимофей Роман Владимир Ярослав Фёдор Георгий Константин Лев Марк Степан Глеб
Арсений Семён Савелий"""
)
GIRLS = words(
    """Анастасия Мария Анна Виктория Екатерина Дарья Полина Софья Алиса Елизавета Александра
Ксения Варвара Вероника Арина Валерия Ульяна Милана Таисия Ева Василиса Алёна Кристина Юлия
Диана Яна Маргарита Злата Вера"""
)
MOTHERS = words(
    """Елена Ольга Наталья Татьяна Ирина Светлана Юлия Анна Екатерина Марина Мария Оксана
Анастасия Людмила Галина Надежда Виктория Евгения Ксения Алёна"""
)
FATHERS = {  # first name → (son's patronymic, daughter's patronymic)
    "Александр": ("Александрович", "Александровна"),
    "Сергей": ("Сергеевич", "Сергеевна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Андрей": ("Андреевич", "Андреевна"),
    "Алексей": ("Алексеевич", "Алексеевна"),
    "Михаил": ("Михайлович", "Михайловна"),
    "Евгений": ("Евгеньевич", "Евгеньевна"),
    "Владимир": ("Владимирович", "Владимировна"),
    "Игорь": ("Игоревич", "Игоревна"),
    "Олег": ("Олегович", "Олеговна"),
    "Павел": ("Павлович", "Павловна"),
    "Николай": ("Николаевич", "Николаевна"),
    "Роман": ("Романович", "Романовна"),
    "Виктор": ("Викторович", "Викторовна"),
    "Денис": ("Денисович", "Денисовна"),
    "Максим": ("Максимович", "Максимовна"),
    "Иван": ("Иванович", "Ивановна"),
    "Юрий": ("Юрьевич", "Юрьевна"),
    "Константин": ("Константинович", "Константиновна"),
    "Антон": ("Антонович", "Антоновна"),
    "Илья": ("Ильич", "Ильинична"),
    "Кирилл": ("Кириллович", "Кирилловна"),
}
TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        words("a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya"),
        strict=True,
    )
)


def latin(text: str) -> str:
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower()).replace("-", "")


def female(surname: str) -> str:
    if surname.endswith("ский"):
        return surname[:-2] + "ая"
    return surname + "а"


def write(name: str, header: list[str], rows: Sequence[Sequence[object]]) -> None:
    with (HERE / name).open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header)
        out.writerows(["" if v is None else v for v in row] for row in rows)


def build_timetable() -> dict[tuple[str, int, int], str]:
    """(class, weekday, lesson_no) → subject; each subject at most once a day, no teacher clash."""
    cells = [
        (cls, day, no)
        for day in range(1, 6)
        for no in range(1, 8)
        for cls, spec in CLASSES.items()
        if no <= spec[3][day - 1]
    ]
    left = {cls: {s: h for s, (h, _) in spec[4].items()} for cls, spec in CLASSES.items()}
    busy: set[tuple[str, int, int]] = set()  # (teacher, weekday, lesson_no)
    grid: dict[tuple[str, int, int], str] = {}

    def feasible(cls: str, day: int) -> bool:
        today = {s for (c, d, _), s in grid.items() if c == cls and d == day}
        days_left = 5 - day
        return all(h <= days_left + (s not in today) for s, h in left[cls].items())

    def place(i: int) -> bool:
        if i == len(cells):
            return True
        cls, day, no = cells[i]
        today = {s for (c, d, _), s in grid.items() if c == cls and d == day}
        options = [s for s, h in left[cls].items() if h and s not in today]
        rng.shuffle(options)
        options.sort(key=lambda s: -left[cls][s])
        for subject in options:
            teachers = CLASSES[cls][4][subject][1]
            if any((t, day, no) in busy for t in teachers):
                continue
            grid[(cls, day, no)] = subject
            left[cls][subject] -= 1
            busy.update((t, day, no) for t in teachers)
            if feasible(cls, day) and place(i + 1):
                return True
            del grid[(cls, day, no)]
            left[cls][subject] += 1
            busy.difference_update((t, day, no) for t in teachers)
        return False

    if not place(0):
        raise SystemExit("no timetable found")
    return grid


def first_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.isoweekday()) % 7)


def main() -> None:
    write(
        "subjects.csv",
        ["id", "name", "marked"],
        [[s, n, "yes" if m else "no"] for s, n, m in SUBJECTS],
    )
    write(
        "teachers.csv",
        ["id", "full_name", "email"],
        [
            [
                t,
                n,
                f"{latin(n.split()[0])}.{latin(n.split()[1][0])}{latin(n.split()[2][0])}"
                ".teacher.example@gmail.com",
            ]
            for t, n in TEACHERS
        ],
    )
    write(
        "classes.csv",
        ["id", "grade", "class_teacher_id"],
        [[c, g, t] for c, (g, t, *_rest) in CLASSES.items()],
    )
    write(
        "assignments.csv",
        ["class_id", "subject_id", "teacher_id"],
        [[c, s, t] for c, spec in CLASSES.items() for s, (_, ts) in spec[4].items() for t in ts],
    )

    grid = build_timetable()
    rows = []
    for (cls, day, no), subject in sorted(grid.items(), key=lambda kv: (kv[0][0], kv[0][1:])):
        teachers = CLASSES[cls][4][subject][1]
        for t in teachers:  # teacher named only for split groups; else taken from assignments
            rows.append([day, no, cls, subject, t if len(teachers) > 1 else ""])
    write("timetable.csv", ["weekday", "lesson_no", "class_id", "subject_id", "teacher_id"], rows)

    def day_of(cls: str, subject: str, after: date) -> tuple[date, int]:
        slots = sorted((d, n) for (c, d, n), s in grid.items() if c == cls and s == subject)
        return min((first_weekday(after, d), n) for d, n in slots)

    cancel_day, cancel_no = day_of("7Б", "physics", date(2026, 12, 7))
    move_day, move_no = day_of("10А", "chemistry", date(2026, 12, 14))
    length = CLASSES["10А"][3][move_day.isoweekday() - 1]
    extra_day = date(2026, 12, 17)
    extra_no = CLASSES["10А"][3][extra_day.isoweekday() - 1] + 1
    write(
        "changes.csv",
        [
            "kind",
            "date",
            "lesson_no",
            "class_id",
            "subject_id",
            "teacher_id",
            "new_date",
            "new_lesson_no",
            "comment",
        ],
        [
            [
                "cancelled",
                cancel_day,
                cancel_no,
                "7Б",
                "physics",
                "",
                "",
                "",
                "экскурсия в Политехнический музей",
            ],
            [
                "moved",
                move_day,
                move_no,
                "10А",
                "chemistry",
                "",
                move_day,
                length + 1,
                "лабораторная работа последним уроком",
            ],
            [
                "extra",
                extra_day,
                extra_no,
                "10А",
                "algebra",
                "volkova",
                "",
                "",
                "консультация перед контрольной",
            ],
        ],
    )
    # a day on which Волкова is free while Кузнецов's 5А math lesson runs
    sub = next(
        first_weekday(date(2026, 11, 23), d)
        for (c, d, n), s in sorted(grid.items())
        if c == "5А"
        and s == "math"
        and not any(
            k[0] == "10А" and k[1:] == (d, n) and CLASSES["10А"][4][v][1] == ["volkova"]
            for k, v in grid.items()
        )
    )
    write(
        "substitutions.csv",
        ["date", "class_id", "subject_id", "teacher_id", "comment"],
        [[sub, "5А", "math", "volkova", "Кузнецов Д. А. на курсах повышения квалификации"]],
    )

    surnames = MALE_SURNAMES[:]
    rng.shuffle(surnames)
    pupils: list[list[object]] = []
    parents: list[list[object]] = []
    emails: set[str] = set()
    number = 0

    def unique_email(base: str) -> str:
        email, n = f"{base}.example@gmail.com", 1
        while email in emails:
            n += 1
            email = f"{base}{n}.example@gmail.com"
        emails.add(email)
        return email

    for cls, (grade, _t, count, _d, _s) in CLASSES.items():
        roster = []
        for _ in range(count):
            surname = surnames.pop()
            girl = rng.random() < 0.5
            father = rng.choice(list(FATHERS))
            first = rng.choice(GIRLS if girl else BOYS)
            middle = FATHERS[father][1 if girl else 0]
            roster.append((female(surname) if girl else surname, first, middle, surname, father))
        roster.sort()
        for last, first, middle, family, father in roster:
            number += 1
            pid = f"s{number:04d}"
            enrolled, left = date(2026, 9, 1), None
            if cls == "5А" and number == 3:
                enrolled = date(2026, 11, 16)  # came from another school
            if cls == "7Б" and number == 40:
                left = date(2026, 11, 13)  # moved to another city
            email = unique_email(f"{latin(first)}.{latin(last)}") if grade >= 10 else None
            pupils.append([pid, cls, last, first, middle, enrolled, left, email])
            who = rng.random()
            people = []
            if who < 0.9:
                mother = rng.choice(MOTHERS)
                m_middle = rng.choice(list(FATHERS.values()))[1]
                people.append(f"{female(family)} {mother} {m_middle}")
            if who > 0.6:
                people.append(f"{family} {father} {rng.choice(list(FATHERS.values()))[0]}")
            for person in people:
                p_last, p_first, p_middle = person.split()
                email = unique_email(f"{latin(p_last)}.{latin(p_first[0])}{latin(p_middle[0])}")
                applied = max(date(2026, 9, 1) + timedelta(days=rng.randrange(0, 21)), enrolled)
                consent: date | None = applied
                if rng.random() < 0.1:
                    consent = None  # no application yet: no diary access
                parents.append([f"p{len(parents) + 1:04d}", pid, person, email, consent])
    parents[5][4] = date(2026, 12, 1)  # application dated ahead: access from that day
    write(
        "pupils.csv",
        ["id", "class_id", "last_name", "first_name", "middle_name", "enrolled", "left", "email"],
        pupils,
    )
    write("parents.csv", ["id", "pupil_id", "full_name", "email", "consent"], parents)


if __name__ == "__main__":
    main()
