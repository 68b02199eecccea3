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

# Undoing an import (core's `import::undo`) and the list of imports.
error-import_undo_not_allowed = Only the person who ran this import, or an administrator, can undo it.
error-import_already_undone = This import was already undone by { $by }; there is nothing left to undo.
error-import_run_in_progress = This import (or its undo) is still running. Wait until it has finished, then try again.
error-import_undo_changed_since = “{ $title }” was changed by someone after the import, so it was kept as it is.
error-import_undo_still_referred = “{ $title }” was created by the import but other records now refer to it, so it was kept.
error-import_undo_out_of_reach = “{ $title }” is not yours to change, so it was kept as it is.
error-import_undo_gone = “{ $title }” had already been deleted.
error-import_undo_refused = “{ $title }” could not be given back its earlier values, so it was kept as it is.
import-status-running = Running
import-status-finished = Finished
import-status-stopped = Stopped
import-status-interrupted = Interrupted
import-status-undoing = Undoing
import-status-undone = Undone
