//! The error file of an import: the rows that could not be imported, each with its line, the
//! column, the reason in the reader's language and the error's code, then the row's own values
//! under the file's headers, so that it can be corrected and imported again. UTF-8 with a byte
//! order mark, so that Excel opens it right. `guanxi import` writes it as rows fail; the
//! browser's "Download error file" writes it from a run's kept errors, in the language of
//! whoever downloads it.

use std::io::Write;

use guanxi_core::Params;

use crate::i18n::I18n;

/// What Excel needs to read a CSV as UTF-8 rather than the system's code page.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An error file being written.
pub struct ErrorCsv<W: Write> {
    words: I18n,
    headers: Vec<String>,
    out: Option<W>,
    writer: Option<csv::Writer<W>>,
    /// Rows written.
    pub rows: u64,
}

impl<W: Write> ErrorCsv<W> {
    /// An error file into `out`, in `words`' language, for a file with `headers`. Nothing is
    /// written until the first error.
    pub fn new(out: W, words: I18n, headers: Vec<String>) -> ErrorCsv<W> {
        ErrorCsv {
            words,
            headers,
            out: Some(out),
            writer: None,
            rows: 0,
        }
    }

    fn writer(&mut self) -> std::io::Result<&mut csv::Writer<W>> {
        if let Some(mut out) = self.out.take() {
            out.write_all(BOM)?;
            // A row the reader could not split keeps no values, and a longer one more than
            // the headers: neither may cut the file short.
            let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
            let mut head: Vec<String> = ["line", "column", "reason", "code"]
                .iter()
                .map(|k| self.words.t(&format!("import-errors-{k}")))
                .collect();
            head.extend(self.headers.iter().cloned());
            w.write_record(&head).map_err(std::io::Error::other)?;
            self.writer = Some(w);
        }
        self.writer
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the error file is not open"))
    }

    /// Writes the byte order mark and the header now (a file without errors still has them).
    pub fn start(&mut self) -> std::io::Result<()> {
        self.writer().map(|_| ())
    }

    /// One row's error.
    pub fn error(
        &mut self,
        line: u64,
        column: &str,
        code: &str,
        params: &Params,
        values: &[String],
    ) -> std::io::Result<()> {
        let mut record = vec![
            line.to_string(),
            column.to_string(),
            self.words.error(code, params),
            code.to_string(),
        ];
        record.extend(values.iter().cloned());
        // Cells under every header, so a spreadsheet shows the row whole.
        let width = 4 + self.headers.len();
        if record.len() < width {
            record.resize(width, String::new());
        }
        self.writer()?
            .write_record(&record)
            .map_err(std::io::Error::other)?;
        self.rows += 1;
        Ok(())
    }

    /// Writes what is buffered; the output, if any row was written.
    pub fn finish(mut self) -> std::io::Result<Option<W>> {
        match self.writer.take() {
            Some(w) => w
                .into_inner()
                .map(Some)
                .map_err(|e| std::io::Error::other(e.to_string())),
            None => Ok(None),
        }
    }

    /// Writes what is buffered so far.
    pub fn flush(&mut self) -> std::io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}
