"""A tiny hand-built school for the report tests: 3 classes, 2 subjects, 2 short periods.

Year 07.09–02.10.2026, «1 четверть» 07.09–18.09, «2 четверть» 21.09–02.10. Every class has
математика on Monday and Wednesday and русский язык on Monday and Thursday; 5А sits lessons 1–2,
7Б lessons 3–4, 10А lessons 5–6 (so a teacher is never in two classes at once):

    Mon: math (1st), russian (2nd) · Wed: math (1st) · Thu: russian (1st)   (+2 / +4 for 7Б / 10А)

so each period has 4 math and 4 russian lessons per class, on 6 days. 7Б's s-b4 leaves on
15.09 (in period 1); 10А's s-c3 joins on 21.09 (period 2). 5А math has a КТП of 8 hours.
"""

from __future__ import annotations

from pathlib import Path

SCHOOL_TOML = """
[school]
name = "МБОУ «Тестовая школа № 7»"
timezone = "Europe/Moscow"
deputy_emails = ["deputy@school7.example"]

[year]
name = "2026/27"
start = 2026-09-07
end = 2026-10-02

[[year.periods]]
name = "1 четверть"
start = 2026-09-07
end = 2026-09-18

[[year.periods]]
name = "2 четверть"
start = 2026-09-21
end = 2026-10-02

[[work_types]]
code = "classwork"
name = "Работа на уроке"

[[work_types]]
code = "test"
name = "Проверочная работа"
assessment = true

[[work_types]]
code = "control"
name = "Контрольная работа"
weight = 2.0
assessment = true

[[grace]]
work_type = "control"
min_grade = 5
max_grade = 11
days = 7

[backend]
kind = "local"
folder = "sheets"

[ledger]
path = "var/ledger.sqlite3"
"""

FILES = {
    "classes.csv": "id,grade,class_teacher_id\n5А,5,ivanova\n7Б,7,petrov\n10А,10,ivanova\n",
    "pupils.csv": (
        "id,class_id,last_name,first_name,middle_name,enrolled,left,email\n"
        "s-a1,5А,Алексеев,Артём,,2026-09-01,,\n"
        "s-a2,5А,Борисова,Анна,,2026-09-01,,\n"
        "s-a3,5А,Васильев,Антон,,2026-09-01,,\n"
        "s-a4,5А,Григорьева,Алла,,2026-09-01,,\n"
        "s-b1,7Б,Дмитриев,Борис,,2026-09-01,,\n"
        "s-b2,7Б,Егорова,Белла,,2026-09-01,,\n"
        "s-b3,7Б,Жуков,Богдан,,2026-09-01,,\n"
        "s-b4,7Б,Зайцева,Бэлла,,2026-09-01,2026-09-15,\n"
        "s-c1,10А,Ильин,Вадим,,2026-09-01,,\n"
        "s-c2,10А,Климова,Вера,,2026-09-01,,\n"
        "s-c3,10А,Лебедев,Виктор,,2026-09-21,,\n"
    ),
    "parents.csv": "id,pupil_id,full_name,email,consent\n",
    "teachers.csv": (
        "id,full_name,email\n"
        "ivanova,Иванова Мария Петровна,ivanova@school7.example\n"
        "petrov,Петров Олег Ильич,petrov@school7.example\n"
    ),
    "subjects.csv": "id,name,marked\nmath,Математика,yes\nrussian,Русский язык,yes\n",
    "assignments.csv": (
        "class_id,subject_id,teacher_id\n"
        "5А,math,ivanova\n5А,russian,petrov\n"
        "7Б,math,ivanova\n7Б,russian,petrov\n"
        "10А,math,ivanova\n10А,russian,petrov\n"
    ),
    "changes.csv": "kind,date,lesson_no,class_id,subject_id,teacher_id,new_date,new_lesson_no\n",
    "substitutions.csv": "date,class_id,subject_id,teacher_id\n",
    "plans/5А_math.csv": (
        "number,topic,hours,work_type\n"
        "1,Натуральные числа,2,\n"
        "3,Входная контрольная работа,1,control\n"
        "4,Сложение натуральных чисел,3,\n"
        "7,Вычитание,2,\n"
    ),
}
OFFSET = {"5А": 0, "7Б": 2, "10А": 4}
BACKEND = '[backend]\nkind = "local"\nfolder = "sheets"\n'



def timetable() -> str:
    rows = ["weekday,lesson_no,class_id,subject_id,teacher_id"]
    for cls, o in OFFSET.items():
        rows += [f"1,{1 + o},{cls},math,", f"1,{2 + o},{cls},russian,",
                 f"3,{1 + o},{cls},math,", f"4,{1 + o},{cls},russian,"]
    return "\n".join(rows) + "\n"


def write_school(folder: Path, extra: str = "", *, backend: str = BACKEND) -> Path:
    """Write the school's files into ``folder`` (``extra`` TOML appended, ``backend`` replacing
    the local [backend] section); returns the path of school.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plans").mkdir(exist_ok=True)
    for name, text in {**FILES, "timetable.csv": timetable()}.items():
        (folder / name).write_text(text, encoding="utf-8")
    config = folder / "school.toml"
    config.write_text(SCHOOL_TOML.replace(BACKEND, backend) + extra, encoding="utf-8")
    return config
