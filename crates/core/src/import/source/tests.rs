//! Files written the way Chinese Excel, WPS, European Excel and other CRMs write them.

use std::io::Cursor;

use super::*;

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

fn open(bytes: Vec<u8>) -> Result<Source, ReadError> {
    Source::open(Cursor::new(bytes), &ReadOptions::default())
}

/// Every row, errors included.
fn all(src: Source) -> Vec<Result<Row, ReadError>> {
    src.collect()
}

fn row(line: u64, fields: &[&str]) -> Result<Row, ReadError> {
    Ok(Row {
        line,
        fields: fields.iter().map(|f| f.to_string()).collect(),
    })
}

#[test]
fn chinese_excel_csv_is_gbk_with_crlf() {
    // 另存为 "CSV (逗号分隔)" on a Chinese Windows: GBK, CRLF, quotes only where needed.
    let text = "姓名,手机,电子邮箱,公司名称,职位,省份,城市\r\n\
                张三,13800138000,zhangsan@example.cn,北京星辰科技有限公司,销售经理,北京市,北京市\r\n\
                欧阳娜娜,13900139000,,\"上海某某贸易有限公司,浦东分公司\",总监,上海市,上海市\r\n";
    let src = open(gbk(text)).expect("opens");
    assert_eq!(src.format().encoding, Some("gb18030"));
    assert_eq!(src.format().delimiter, Some(b','));
    assert_eq!(src.format().kind, FileKind::Csv);
    assert_eq!(
        src.headers(),
        [
            "姓名",
            "手机",
            "电子邮箱",
            "公司名称",
            "职位",
            "省份",
            "城市"
        ]
    );
    assert_eq!(src.header_line(), 1);
    assert_eq!(
        all(src),
        vec![
            row(
                2,
                &[
                    "张三",
                    "13800138000",
                    "zhangsan@example.cn",
                    "北京星辰科技有限公司",
                    "销售经理",
                    "北京市",
                    "北京市"
                ]
            ),
            row(
                3,
                &[
                    "欧阳娜娜",
                    "13900139000",
                    "",
                    "上海某某贸易有限公司,浦东分公司",
                    "总监",
                    "上海市",
                    "上海市"
                ]
            ),
        ]
    );
}

#[test]
fn excel_csv_utf8_has_a_byte_order_mark() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice("姓名,手机\r\n李四,13700137000\r\n".as_bytes());
    let src = open(bytes).expect("opens");
    assert_eq!(src.format().encoding, Some("UTF-8"));
    assert_eq!(src.headers(), ["姓名", "手机"]);
    assert_eq!(all(src), vec![row(2, &["李四", "13700137000"])]);
}

#[test]
fn wps_csv_with_blank_lines_and_trailing_empty_cells() {
    // WPS 表格 keeps the sheet's used width: empty cells at the end of rows, empty rows.
    let text = "\r\n客户名称,联系人,电话,,\r\n星辰科技,王五,010-88886666,,\r\n,,,,\r\n\r\n云海网络,赵六,,,\r\n";
    let src = open(gbk(text)).expect("opens");
    assert_eq!(src.headers(), ["客户名称", "联系人", "电话"]);
    assert_eq!(src.header_line(), 2);
    assert_eq!(
        all(src),
        vec![
            row(3, &["星辰科技", "王五", "010-88886666"]),
            row(6, &["云海网络", "赵六", ""]),
        ]
    );
}

#[test]
fn semicolons_and_excel_sep_line() {
    let text = "Name;Phone;City\nAnna Müller;+49 30 123456;\"Berlin; Mitte\"\n";
    let src = open(text.as_bytes().to_vec()).expect("opens");
    assert_eq!(src.format().delimiter, Some(b';'));
    assert_eq!(
        all(src),
        vec![row(2, &["Anna Müller", "+49 30 123456", "Berlin; Mitte"])]
    );
    let text = "sep=;\r\nName,Title;Phone\r\n\"Li, Lei\",CEO;138\r\n";
    let src = open(text.as_bytes().to_vec()).expect("opens");
    assert_eq!(src.headers(), ["Name,Title", "Phone"]);
    // Text after a closing quote goes on in the same field, as Excel reads it.
    assert_eq!(all(src), vec![row(3, &["Li, Lei,CEO", "138"])]);
}

#[test]
fn excel_unicode_text_is_utf16_with_tabs() {
    let mut bytes = vec![0xFF, 0xFE];
    for u in "姓名\t手机\t城市\r\n司马光\t13600136000\t西安\r\n".encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let src = open(bytes).expect("opens");
    assert_eq!(src.format().encoding, Some("UTF-16LE"));
    assert_eq!(src.format().delimiter, Some(b'\t'));
    assert_eq!(all(src), vec![row(2, &["司马光", "13600136000", "西安"])]);
}

#[test]
fn quoted_fields_hold_line_breaks_and_delimiters() {
    let text = "姓名,备注,城市\r\n\
                诸葛亮,\"第一行\r\n第二行，含逗号, 和 \"\"引号\"\"\",成都\r\n\
                上官婉儿,,长安\r\n";
    let src = open(gbk(text)).expect("opens");
    assert_eq!(
        all(src),
        vec![
            row(
                2,
                &["诸葛亮", "第一行\r\n第二行，含逗号, 和 \"引号\"", "成都"]
            ),
            // The line an editor shows it on, after the two lines of the record before.
            row(4, &["上官婉儿", "", "长安"]),
        ]
    );
}

#[test]
fn ragged_rows_short_padded_long_refused_by_line() {
    let text = "姓名,手机,城市\n张三\n李四,139,广州,多出来的\n王五,137,深圳,,\n";
    let rows = all(open(text.as_bytes().to_vec()).expect("opens"));
    assert_eq!(
        rows,
        vec![
            row(2, &["张三", "", ""]),
            Err(ReadError::TooManyColumns {
                line: 3,
                columns: 4,
                expected: 3
            }),
            row(4, &["王五", "137", "深圳"]),
        ]
    );
    let e = ReadError::TooManyColumns {
        line: 3,
        columns: 4,
        expected: 3,
    };
    assert!(!e.is_fatal());
    assert_eq!(e.code(), "too_many_columns");
    assert_eq!(e.line(), Some(3));
}

#[test]
fn bytes_the_encoding_cannot_read_name_their_line() {
    // A UTF-8 file with a GBK row pasted in: the row cannot be read, the others can.
    let mut bytes = "姓名,城市\n司马光,西安\n诸葛亮,成都\n上官婉儿,洛阳\n"
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(&gbk("张三,北京\n"));
    bytes.extend_from_slice("Bob,罗马\n".as_bytes());
    let src = open(bytes).expect("opens");
    assert_eq!(src.format().encoding, Some("UTF-8"));
    assert_eq!(
        all(src),
        vec![
            row(2, &["司马光", "西安"]),
            row(3, &["诸葛亮", "成都"]),
            row(4, &["上官婉儿", "洛阳"]),
            Err(ReadError::UnreadableCharacters { line: 5 }),
            row(6, &["Bob", "罗马"]),
        ]
    );
}

#[test]
fn files_refused_whole() {
    let options = ReadOptions {
        max_bytes: 10,
        ..ReadOptions::default()
    };
    let e = Source::open(Cursor::new(b"name,phone\nA,1\n".to_vec()), &options).err();
    assert_eq!(e, Some(ReadError::FileTooLarge { limit: 10 }));
    assert_eq!(
        e.map(|e| e.params().get("limit").cloned()),
        Some(Some(serde_json::json!(0)))
    );
    assert_eq!(open(Vec::new()).err(), Some(ReadError::EmptyFile));
    assert_eq!(
        open(b"\r\n\r\n,,\r\n".to_vec()).err(),
        Some(ReadError::EmptyFile)
    );
    let mut utf16 = Vec::new();
    for u in "name,phone\r\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    assert_eq!(open(utf16).err(), Some(ReadError::UnknownEncoding));
}

#[test]
fn not_a_spreadsheet() {
    // A zip signature and then nothing a workbook has.
    let e = open(b"PK\x03\x04 this is no workbook at all".to_vec()).err();
    assert_eq!(e, Some(ReadError::NotASpreadsheet));
    // An old-format signature and nothing after.
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend_from_slice(&[0; 100]);
    assert_eq!(open(ole).err(), Some(ReadError::NotASpreadsheet));
    // A zip that is a Word document, named .xlsx.
    let mut docx = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default();
    let _ = docx.start_file("[Content_Types].xml", stored);
    let _ = std::io::Write::write_all(&mut docx, b"<Types/>");
    let _ = docx.start_file("word/document.xml", stored);
    let _ = std::io::Write::write_all(&mut docx, "<w:document>合同</w:document>".as_bytes());
    let docx = docx.finish().map(Cursor::into_inner).unwrap_or_default();
    assert!(docx.starts_with(b"PK\x03\x04"));
    let options = ReadOptions {
        kind: FileKind::from_name("客户.xlsx"),
        ..ReadOptions::default()
    };
    let e = Source::open(Cursor::new(docx), &options).err();
    assert_eq!(e, Some(ReadError::NotASpreadsheet));
    // Text named .xlsx.
    let options = ReadOptions {
        kind: FileKind::from_name("客户名单.XLSX"),
        ..ReadOptions::default()
    };
    let e = Source::open(Cursor::new(b"name\nA\n".to_vec()), &options).err();
    assert_eq!(e, Some(ReadError::NotASpreadsheet));
    assert_eq!(FileKind::from_name("a.csv"), Some(FileKind::Csv));
    assert_eq!(FileKind::from_name("a.xls"), Some(FileKind::Xls));
    assert_eq!(FileKind::from_name("a.pdf"), None);
}

fn workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let hidden = book.add_worksheet();
    let _ = hidden.set_name("说明");
    let _ = hidden.write_string(0, 0, "请勿修改");
    let _ = hidden.set_hidden(true);
    let sheet = book.add_worksheet();
    let _ = sheet.set_name("联系人");
    let _ = sheet.set_active(true);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let stamp = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (c, h) in ["姓名", "手机", "生日", "下次联系", "金额", "折扣", "VIP"]
        .iter()
        .enumerate()
    {
        let _ = sheet.write_string(0, c as u16, *h);
    }
    let _ = sheet.write_string(1, 0, "欧阳修");
    let _ = sheet.write_number(1, 1, 13800138000.0);
    if let Ok(d) = ExcelDateTime::from_ymd(1990, 3, 5) {
        let _ = sheet.write_datetime_with_format(1, 2, &d, &date);
    }
    if let Ok(d) = ExcelDateTime::parse_from_str("2026-12-24 14:30:00") {
        let _ = sheet.write_datetime_with_format(1, 3, &d, &stamp);
    }
    let _ = sheet.write_number(1, 4, 0.1 + 0.2);
    let _ = sheet.write_number(1, 5, 12.5);
    let _ = sheet.write_boolean(1, 6, true);
    // Row 3 left blank; row 4 sparse; row 5 has a value past the header.
    let _ = sheet.write_string(3, 0, "司马光");
    let _ = sheet.write_number(3, 4, 1e20);
    let _ = sheet.write_string(4, 0, "诸葛亮");
    let _ = sheet.write_string(4, 8, "多余");
    book.save_to_buffer().unwrap_or_default()
}

#[test]
fn xlsx_rows_with_dates_and_numbers_as_typed() {
    let src = open(workbook()).expect("opens");
    assert_eq!(src.format().kind, FileKind::Xlsx);
    assert_eq!(src.format().sheet.as_deref(), Some("联系人"));
    assert_eq!(
        src.headers(),
        ["姓名", "手机", "生日", "下次联系", "金额", "折扣", "VIP"]
    );
    assert_eq!(
        all(src),
        vec![
            row(
                2,
                &[
                    "欧阳修",
                    "13800138000",
                    "1990-03-05",
                    "2026-12-24 14:30",
                    "0.3",
                    "12.5",
                    "true"
                ]
            ),
            row(4, &["司马光", "", "", "", "100000000000000000000", "", ""]),
            Err(ReadError::TooManyColumns {
                line: 5,
                columns: 9,
                expected: 7
            }),
        ]
    );
}

#[test]
fn xlsx_sheet_by_name() {
    let options = ReadOptions {
        sheet: Some("说明".into()),
        ..ReadOptions::default()
    };
    let src = Source::open(Cursor::new(workbook()), &options).expect("opens");
    assert_eq!(src.headers(), ["请勿修改"]);
    let options = ReadOptions {
        sheet: Some("Sheet9".into()),
        ..ReadOptions::default()
    };
    let e = Source::open(Cursor::new(workbook()), &options).err();
    assert_eq!(
        e,
        Some(ReadError::NoSuchSheet {
            sheet: "Sheet9".into()
        })
    );
}

#[test]
fn a_large_file_streams_row_by_row() {
    // 30,000 GBK rows (a megabyte), well past every buffer, read one at a time with their lines.
    let mut text = String::from("姓名,手机,城市\r\n");
    for i in 0..30_000 {
        text.push_str(&format!("欧阳{i},1380013{i:04},\"北京,朝阳\"\r\n"));
    }
    let src = open(gbk(&text)).expect("opens");
    let mut n = 0u64;
    let mut last = None;
    for r in src {
        let r = r.expect("row");
        n += 1;
        assert_eq!(r.line, n + 1);
        last = Some(r);
    }
    assert_eq!(n, 30_000);
    assert_eq!(
        last.map(|r| r.fields),
        Some(vec![
            "欧阳29999".to_string(),
            "138001329999".to_string(),
            "北京,朝阳".to_string()
        ])
    );
}

#[test]
fn numbers_without_float_noise() {
    assert_eq!(number_text(13800138000.0), "13800138000");
    assert_eq!(number_text(0.1 + 0.2), "0.3");
    assert_eq!(number_text(-2.5), "-2.5");
    assert_eq!(number_text(1234.5678), "1234.5678");
    assert_eq!(number_text(0.000123), "0.000123");
    assert_eq!(number_text(0.0), "0");
}

#[test]
fn a_template_title_and_note_above_the_header_are_passed_over() {
    // CRM import templates put a merged title row and a note above the header.
    let text = "联系人导入模板,,,\r\n说明：带*为必填项,,,\r\n姓名*,手机,职务,备注\r\n张三,138,经理,\r\n李四,,,\r\n";
    let src = open(gbk(text)).expect("opens");
    assert_eq!(src.header_line(), 3);
    assert_eq!(src.headers(), ["姓名*", "手机", "职务", "备注"]);
    assert_eq!(
        all(src),
        vec![
            row(4, &["张三", "138", "经理", ""]),
            // A row naming one column after the header is data, not a title.
            row(5, &["李四", "", "", ""]),
        ]
    );
    // A one-column file keeps its first row as the header.
    let src = open(b"name\nAnn\n".to_vec()).expect("opens");
    assert_eq!(src.headers(), ["name"]);
}

#[test]
fn a_file_ascii_at_first_and_gbk_later_reads_as_gbk() {
    let mut text = "name,phone,city\r\n".to_string();
    let mut n = 0;
    while text.len() < 300 * 1024 {
        text.push_str("Zhang Wei,13800138000,Beijing\r\n");
        n += 1;
    }
    text.push_str("欧阳娜娜,13900139000,深圳\r\n");
    let src = open(gbk(&text)).expect("opens");
    let rows = all(src);
    assert_eq!(rows.len(), n + 1);
    assert_eq!(
        rows.last().cloned(),
        Some(row(n as u64 + 2, &["欧阳娜娜", "13900139000", "深圳"]))
    );
    // Shift_JIS after the ASCII: the file is refused there.
    let mut bytes = text.as_bytes()[..300 * 1024].to_vec();
    bytes.extend(
        encoding_rs::SHIFT_JIS
            .encode("\r\n山田太郎,090,東京都新宿区西新宿\r\nカタカナ,メール,アドレス\r\n")
            .0
            .iter(),
    );
    let rows = all(open(bytes).expect("opens"));
    assert_eq!(rows.last().cloned(), Some(Err(ReadError::UnknownEncoding)));
    // Within the first rows the delimiter is judged from (past the bytes the encoding was
    // judged from), refused on opening.
    let mut bytes = b"name,city\r\n".repeat(200);
    bytes.extend(
        encoding_rs::SHIFT_JIS
            .encode("山田太郎,東京都新宿区西新宿\r\n")
            .0
            .iter(),
    );
    let options = ReadOptions {
        sniff_bytes: 1024,
        ..ReadOptions::default()
    };
    let e = Source::open(Cursor::new(bytes), &options).err();
    assert_eq!(e, Some(ReadError::UnknownEncoding));
}

/// How fast rows are read: `cargo test --release -p guanxi-core --lib reading_speed --
/// --ignored --nocapture` (a figure to report, never a timed assertion).
#[test]
#[ignore]
fn reading_speed() {
    let mut text = String::from("姓名,手机,电子邮箱,公司名称,职位,省份,城市,备注\r\n");
    for i in 0..1_000_000 {
        text.push_str(&format!(
            "欧阳{i},1380{i:07},user{i}@example.cn,星辰科技有限公司{},销售经理,广东省,深圳市,\"备注, 第{i}行\"\r\n",
            i % 1000
        ));
    }
    let bytes = gbk(&text);
    let mb = bytes.len() as f64 / 1e6;
    let started = std::time::Instant::now();
    let src = open(bytes).expect("opens");
    let n = src.filter(Result::is_ok).count();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{n} GBK rows ({mb:.0} MB) in {secs:.2} s: {:.0} rows/s",
        n as f64 / secs
    );
    assert_eq!(n, 1_000_000);
}
