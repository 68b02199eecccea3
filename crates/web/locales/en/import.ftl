# Reading import files and their mappings (core's `import` module). Shown in the import's
# report and its wizard.

error-file_too_large = The file is larger than { $limit } MB. Split it into smaller files and import them one after another.
error-unknown_encoding = The file's text encoding could not be recognised. Save it from Excel or WPS as "CSV UTF-8" (or as an .xlsx workbook) and import it again.
error-empty_file = The file has no header row: its first line should name the columns.
error-not_a_spreadsheet = The file is not a spreadsheet that can be read. Open it in Excel or WPS and save it again as .xlsx or CSV.
error-no_such_sheet = The workbook has no worksheet named “{ $sheet }”.
error-too_many_columns = Line { $line } has values in { $columns } columns, but the header names only { $expected }. Check for an unquoted comma or an extra cell in that line.
error-unreadable_characters = Line { $line } contains characters that cannot be read in the file's encoding. Save the file as "CSV UTF-8" and import it again.
error-file_unreadable = The file cannot be read from line { $line } on: it may be cut short or damaged.
error-mapping_unreadable = The mapping file is not valid TOML (line { $line }).
error-mapping_for_other_entity = This mapping is for { $entity } records.
error-unknown_mapped_field = Column “{ $column }” is mapped to “{ $field }”, which is not a field here.
error-field_not_importable = Column “{ $column }” is mapped to “{ $field }”, which is filled in automatically and cannot be imported.
error-field_mapped_twice = “{ $field }” can take only one column, but several are mapped to it.
error-column_not_in_file = The mapping names a column “{ $column }”, but the file has none by that name.
error-invalid_date_format = Column “{ $column }”: “{ $value }” is not a date format (for example %Y/%m/%d).
error-date_format_for_non_date = Column “{ $column }” has a date format, but “{ $field }” does not hold dates.

# Importing rows (core's `import::run`): the error file's reasons and its columns.
error-import_several_matches = This row matches { $count } existing records ({ $titles }), so it was not imported. Merge them first, or import with the “create” policy.
error-import_match_out_of_reach = This row matches a record owned by { $owner } that you may not change.
error-import_ambiguous_reference = Several { $entity } records are named “{ $value }” ({ $titles }); it is not clear which one is meant.
error-import_no_such_reference = No { $entity } is named “{ $value }”.
error-import_no_such_user = No active user is named “{ $value }” or has that e-mail address.
error-import_ambiguous_user = Several users are named “{ $value }”; enter their e-mail address instead.
error-import_row_failed = This row could not be saved: { $message }
import-errors-line = Line
import-errors-column = Column
import-errors-code = Code
import-errors-reason = Reason

# Importing in the browser: the wizard, the run's page and the history.
list-import = Import
import-title = Import { $entity }
import-steps = Import steps
import-step-upload = 1. Upload
import-step-mapping = 2. Match columns
import-step-run = 3. Import
import-file = File to import (CSV or Excel)
import-limits = CSV (UTF-8 or GBK as Chinese Excel and WPS save it; comma, semicolon or tab) or Excel .xlsx, up to { $limit } MB. The first row holds the column names.
import-upload-hint = Nothing is imported yet: next you check which field each column goes to and see a preview.
import-upload = Upload and continue
import-upload-broken = The upload was interrupted. Please choose the file and upload it again.
import-file-size = { $size }
import-file-encoding = Encoding: { $encoding }
import-file-delimiter = Separated by { $delimiter }
import-file-columns = { $count ->
    [one] 1 column
   *[other] { $count } columns
}
import-encoding-gbk = GBK (Chinese Excel)
import-encoding-utf8 = UTF-8
import-encoding-utf16 = Unicode text (UTF-16)
import-encoding-big5 = Big5 (Traditional Chinese)
import-delimiter-comma = commas
import-delimiter-semicolon = semicolons
import-delimiter-tab = tabs
import-delimiter-bar = vertical bars
import-sheet = Worksheet
import-saved-mapping = Saved mapping
import-apply-mapping = Apply
import-columns = Columns
import-column = Column in the file
import-field = Imported into
import-samples = Sample values
import-dont-import = — Don't import —
import-policy = When a row matches an existing record
import-policy-skip = Skip it
import-policy-skip-hint = The existing record stays as it is.
import-policy-fill = Fill empty fields
import-policy-fill-hint = Only fields that are empty are filled; new phones and e-mails are added.
import-policy-overwrite = Overwrite
import-policy-overwrite-hint = The file's values replace those of the record.
import-policy-create = Create anyway
import-policy-create-hint = No matching: every row becomes a new record.
import-preview = Preview
import-preview-hint = The first 10 rows as they would be imported. Nothing is saved yet.
import-preview-again = Preview again
import-preview-already = { $count } of these rows were imported by an earlier run of this file and are passed over.
import-outcome = Result
import-values = Values
import-outcome-created = Would create
import-outcome-updated = Would update { $title }
import-outcome-skipped = Would skip: matches { $title }
import-outcome-unchanged = No change: { $title } already has these values
import-outcome-failed = Error: { $reason }
import-outcome-already = Already imported
import-start = Import
import-cancel = Cancel import
import-save-mapping = Save this mapping
import-mapping-name = Mapping name
import-save-mapping-button = Save mapping
import-mapping-saved = Mapping “{ $name }” saved. Choose it next time under “Saved mapping”.
import-mapping-applied = Mapping “{ $name }” applied.
import-queued = Import started. You can leave this page: you will be notified when it is done.
import-progress = { $read } of { $total } rows read
import-progress-read = { $read } rows read
import-progress-label = Import progress
import-count-created = Created
import-count-updated = Updated
import-count-skipped = Skipped
import-count-failed = Failed
import-count-already = Imported before
import-counts-short = { $created } created, { $updated } updated, { $skipped } skipped, { $failed } failed
import-see-records = Open { $entity }
import-download-errors = Download error file
import-status-queued = Waiting to start
import-status-running = Importing…
import-status-finished = Done
import-status-stopped = Stopped
import-status-failed = Failed
imports-title = Imports
imports-history = Import history
imports-run-title = Import
imports-none = No imports yet.
imports-file = File
imports-entity = Imported into
imports-who = By
imports-when = Started
imports-status = Status
imports-counts = Result
done-import_cancelled = Import cancelled; the uploaded file was deleted.
notification-import_done = Import of { $file } finished: { $created } created, { $updated } updated, { $failed } failed
error-mapping_name_taken = Another saved mapping already has this name.
error-mapping_headers_missing = The file lacks { $count ->
    [one] the column
   *[other] the columns
} { $columns } named in mapping “{ $name }”; { $count ->
    [one] it is
   *[other] they are
} left out. Check the columns below.
error-import_no_file = Choose a file to import.
error-import_nothing_mapped = No column is matched to a field: choose a field for at least one column.
job-kind-import = Import

# Undoing an import (core's `import::undo`) and the list of imports.
error-import_undo_not_allowed = Only the person who ran this import, or an administrator, can undo it.
error-import_already_undone = This import was already undone by { $by }; there is nothing left to undo.
error-import_run_in_progress = This import (or its undo) is still running. Wait until it has finished, then try again.
error-import_undo_changed_since = “{ $title }” was changed by someone after the import, so it was kept as it is.
error-import_undo_still_referred = “{ $title }” was created by the import but other records now refer to it, so it was kept.
error-import_undo_out_of_reach = “{ $title }” is not yours to change, so it was kept as it is.
error-import_undo_gone = “{ $title }” had already been deleted.
error-import_undo_refused = “{ $title }” could not be given back its earlier values, so it was kept as it is.
import-status-interrupted = Interrupted
import-status-undoing = Undoing
import-status-undone = Undone

# Undoing an import from its page.
import-undo = Undo this import
import-undo-hint = Records this import created go to the recycle bin and fields it changed get their earlier values back. Records someone changed since are left as they are and listed.
import-undo-confirm = Undo this import? Records it created go to the recycle bin and the fields it changed get their earlier values back.
import-undone = Import undone: { $removed } moved to the recycle bin, { $restored } restored, { $kept } left as they were.
import-undo-kept-title = Left as they were
import-undo-kept-more = … and { $count } more.
import-undo-untitled = A record you cannot see

# Stopping an import that runs, and the run's page saying where it stands.
import-stop = Stop import
import-stop-hint = Stops after the batch being written: the records imported so far stay (you can still undo them), the remaining rows are not imported.
import-stop-confirm = Stop this import? The records imported so far stay; the remaining rows are not imported.
import-stopping = Stopping the import: it stops once the current batch is written.
import-result-finished = Import finished: { $created } created, { $updated } updated, { $skipped } skipped, { $failed } failed.
import-result-stopped = Stopped: { $created } created, { $updated } updated, { $failed } failed. The records imported so far stay; undo the import if you do not want them.
import-result-stopped-nothing = Stopped: { $created } created, { $updated } updated, { $failed } failed. Nothing was written.
notification-import_stopped = Import of { $file } stopped: { $created } created, { $updated } updated, { $failed } failed
error-import_stop_not_allowed = Only the person who ran this import, or an administrator, can stop it.
error-import_not_running = This import is no longer running, so there is nothing to stop.

# The date format of each date column in the wizard.
import-date-format = Date format
import-date-auto = Recognise automatically
import-date-ymd-dash = Year-month-day (e.g. { $example })
import-date-ymd-slash = Year/month/day (e.g. { $example })
import-date-ymd-chinese = Chinese year, month, day (e.g. { $example })
import-date-ymd-digits = Year, month, day as digits (e.g. { $example })
import-date-mdy = Month/day/year, US (e.g. { $example })
import-date-dmy = Day/month/year, UK (e.g. { $example })
import-date-dmy-dot = Day.month.year (e.g. { $example })
import-date-other = As the saved mapping says (e.g. { $example })
error-import_date_not_in_format = “{ $value }” does not fit this column's date format: write dates like { $example }.
import-currency = Currency (of every amount on the row)
