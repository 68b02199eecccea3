# 读取导入文件及字段映射（core 的 `import` 模块），显示在导入报告和导入向导中。

error-file_too_large = 文件超过 { $limit } MB，请拆分成多个较小的文件分批导入。
error-unknown_encoding = 无法识别文件的编码。请在 Excel 或 WPS 中另存为“CSV UTF-8”格式（或 .xlsx 工作簿）后重新导入。
error-empty_file = 文件没有表头：第一行应为各列的名称。
error-not_a_spreadsheet = 无法读取该文件，它不是有效的表格文件。请用 Excel 或 WPS 打开后另存为 .xlsx 或 CSV 格式。
error-no_such_sheet = 工作簿中没有名为“{ $sheet }”的工作表。
error-too_many_columns = 第 { $line } 行有 { $columns } 列数据，而表头只有 { $expected } 列。请检查该行是否有未加引号的逗号或多余的单元格。
error-unreadable_characters = 第 { $line } 行含有无法按文件编码读取的字符。请将文件另存为“CSV UTF-8”格式后重新导入。
error-file_unreadable = 文件从第 { $line } 行起无法读取，可能不完整或已损坏。
error-mapping_unreadable = 字段映射文件格式有误（第 { $line } 行）。
error-mapping_for_other_entity = 该字段映射用于导入{ $entity }。
error-unknown_mapped_field = “{ $column }”列对应的字段“{ $field }”不存在。
error-field_not_importable = “{ $column }”列对应的字段“{ $field }”由系统自动填写，不能导入。
error-field_mapped_twice = “{ $field }”只能对应一列，但有多列映射到了它。
error-column_not_in_file = 字段映射中的“{ $column }”列在文件中不存在。
error-invalid_date_format = “{ $column }”列：“{ $value }”不是有效的日期格式（例如 %Y/%m/%d）。
error-date_format_for_non_date = “{ $column }”列设置了日期格式，但字段“{ $field }”不是日期。

# 导入数据行（core 的 `import::run`）：错误文件中的原因和列名。
error-import_several_matches = 该行与 { $count } 条已有记录重复（{ $titles }），未导入。请先合并这些记录，或改用“直接新建”方式导入。
error-import_match_out_of_reach = 该行与{ $owner }负责的一条记录重复，您无权修改该记录。
error-import_ambiguous_reference = 有多个名为“{ $value }”的{ $entity }（{ $titles }），无法确定是哪一个。
error-import_no_such_reference = 找不到名为“{ $value }”的{ $entity }。
error-import_no_such_user = 找不到姓名或邮箱为“{ $value }”的在职用户。
error-import_ambiguous_user = 有多个名为“{ $value }”的用户，请改填其邮箱。
error-import_row_failed = 该行未能保存：{ $message }
import-errors-line = 行号
import-errors-column = 列
import-errors-code = 错误代码
import-errors-reason = 错误原因

# 撤销导入（core 的 `import::undo`）与导入记录列表。
error-import_undo_not_allowed = 只有执行这次导入的人或管理员才能撤销。
error-import_already_undone = 这次导入已由{ $by }撤销，没有可再撤销的内容。
error-import_run_in_progress = 这次导入（或其撤销）仍在进行中，请等它完成后再试。
error-import_undo_changed_since = “{ $title }”在导入后已被他人修改，已保留原样。
error-import_undo_still_referred = “{ $title }”由本次导入新建，但已有其他记录关联它，已保留。
error-import_undo_out_of_reach = 你无权修改“{ $title }”，已保留原样。
error-import_undo_gone = “{ $title }”此前已被删除。
error-import_undo_refused = “{ $title }”无法恢复为导入前的值，已保留原样。
import-status-running = 进行中
import-status-finished = 已完成
import-status-stopped = 已中止
import-status-interrupted = 已中断
import-status-undoing = 撤销中
import-status-undone = 已撤销
