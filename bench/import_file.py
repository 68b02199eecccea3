#!/usr/bin/env python3
"""Writes the contacts file of issue 12's import protocol (bench/README.md section 31).

The file is what a Chinese team brings on its first day: GBK as Chinese Excel saves it, CRLF,
Chinese headers (姓名, 手机, 电子邮箱, 公司名称, 职位, 部门). Every tenth row is a contact the database
already holds (its name, mobile and e-mail as stored, so the import must match it); the rest are
new people at a fixed set of companies (each company created by its first row, linked after).

    python3 bench/import_file.py --database m.db --rows 1000000 contacts-1m.csv

The database is one `guanxi bench-data` filled; it is only read. The same arguments write the
same file.
"""

import argparse
import json
import random
import sqlite3
import sys

HEADER = ["姓名", "手机", "电子邮箱", "公司名称", "职位", "部门"]

FAMILY = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜路詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵解强柴华车冉房边") + [
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
]
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建国志文斌宇浩凯晨欣怡婷雪琳晓东海波宁飞健俊峰亮博子轩梓涵一诺嘉琪思雨佳慧颖倩瑶")
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "苏州", "南京", "成都", "武汉", "西安", "重庆",
          "天津", "长沙", "郑州", "青岛", "厦门", "宁波", "合肥", "济南", "沈阳"]
WORDS = ["华信", "恒通", "中科", "瑞达", "鼎盛", "远航", "金桥", "天成", "博远", "锦程", "汇智",
         "新创", "联合", "宏图", "正大", "永泰", "星辰", "凯盛", "安泰", "华夏", "东方", "明德",
         "启航", "云帆", "长城"]
TRADES = ["科技", "贸易", "电子", "机械", "医药", "物流", "软件", "建材", "食品", "化工", "纺织",
          "咨询", "传媒", "能源", "环保"]
TITLES = ["销售经理", "采购经理", "总经理", "财务主管", "技术总监", "行政专员", "市场经理", "项目经理",
          "采购专员", "工程师", "运营总监", "人事经理"]
DEPARTMENTS = ["销售部", "采购部", "总经办", "财务部", "技术部", "行政部", "市场部", "项目部", "运营部",
               "人力资源部"]
# Mobile prefixes in use in China (a number at another prefix is refused as no phone at all).
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "153", "155", "156", "157", "158", "159", "176", "177", "178", "180",
                   "181", "182", "183", "185", "186", "187", "188", "189", "198", "199"]
MAIL_HOSTS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com"]


def gbk_ok(*texts):
    try:
        for t in texts:
            t.encode("gbk")
        return True
    except UnicodeEncodeError:
        return False


def stored_contacts(path, wanted):
    """`wanted` stored contacts spread over the table, each with a mobile and an e-mail that
    GBK can write."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    (total,) = db.execute("SELECT count(*) FROM contacts WHERE deleted_at IS NULL").fetchone()
    # A few have no phone or e-mail, or a name GBK cannot write: look at a tenth more.
    step = max(1, total // max(1, wanted + wanted // 10))
    out = []
    rows = db.execute(
        "SELECT family_name, given_name, phones, emails, title, department FROM contacts "
        "WHERE deleted_at IS NULL AND rowid % ? = 0 ORDER BY rowid",
        (step,),
    )
    for family, given, phones, emails, title, department in rows:
        phones = json.loads(phones)
        emails = json.loads(emails)
        if not phones or not emails:
            continue
        number = phones[0]["number"]
        if number.startswith("+86"):
            number = number[3:]
        name = family + given if gbk_ok(family + given) and (
            any("\u4e00" <= c <= "\u9fff" for c in family)) else f"{given} {family}".strip()
        if not gbk_ok(name, emails[0]["address"], title, department):
            continue
        out.append((name, number, emails[0]["address"], title, department))
        if len(out) == wanted:
            break
    if len(out) < wanted:
        sys.exit(f"only {len(out)} stored contacts with a phone and an e-mail, {wanted} wanted")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database", required=True, help="an SQLite database bench-data filled")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--companies", type=int, default=1_000)
    ap.add_argument("--repeat-every", type=int, default=10,
                    help="every Nth row is a stored contact")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("out")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    repeats = stored_contacts(args.database, args.rows // args.repeat_every)
    companies = []
    seen = set()
    while len(companies) < args.companies:
        name = f"{rng.choice(CITIES)}{rng.choice(WORDS)}{rng.choice(TRADES)}有限公司"
        if name not in seen:
            seen.add(name)
            companies.append(name)

    with open(args.out, "w", encoding="gbk", newline="") as f:
        f.write(",".join(HEADER) + "\r\n")
        r = 0
        for line in range(args.rows):
            if line % args.repeat_every == args.repeat_every - 1:
                name, phone, email, title, department = repeats[r]
                r += 1
                # A tenth of the stored people come with a title and department of their own:
                # `fill` writes those where the stored contact has none.
                if rng.random() < 0.1:
                    title, department = rng.choice(TITLES), rng.choice(DEPARTMENTS)
                row = [name, phone, email, "", title, department]
            else:
                name = rng.choice(FAMILY) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
                phone = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
                email = f"u{line:07d}{rng.randrange(1000):03d}@{rng.choice(MAIL_HOSTS)}"
                row = [name, phone, email, rng.choice(companies), rng.choice(TITLES),
                       rng.choice(DEPARTMENTS)]
            f.write(",".join(row) + "\r\n")


if __name__ == "__main__":
    main()
