app-name = Guanxi CRM
form-id = id
nav-home = Home
nav-search = Search
nav-imports = Imports
nav-recycle-bin = Recycle bin
nav-admin = Administration
nav-settings = Settings
nav-logout = Log out
nav-notifications = Notifications
notifications-title = Notifications
notifications-none = No notifications yet. Reminders and changes to your records will appear here.
notifications-mark-read = Mark read
notifications-mark-all-read = Mark all read
notifications-marked-read = Marked read.
notifications-marked-all-read = All notifications are marked read.
notifications-unread = Unread
notifications-older = Older notifications
notification-other = Notification
notification-reminder = Reminder: { $title }
admin-jobs = Background jobs
admin-jobs-waiting = Waiting for their time: { $queued } · running now: { $running }
admin-jobs-failed = Failed jobs
admin-jobs-none-failed = No failed jobs: every background job has run or is waiting for its time.
admin-job-kind = Job
admin-job-due = Due
admin-job-attempts = Attempts
admin-job-error = Last error (technical details)
admin-job-retry = Try again
admin-job-drop = Drop
admin-job-drop-confirm = Drop this job for good? It will not run.
admin-job-retried = The job is queued again and runs shortly.
admin-job-dropped = The job was dropped.
job-kind-search_upkeep = Search index upkeep
job-kind-other = Background job ({ $kind })
search-placeholder = Name, pinyin, phone, e-mail…
login-title = Log in
login-email = E-mail
login-password = Password
login-submit = Log in
login-failed = Wrong e-mail or password.
login-throttled = Too many failed attempts. Try again in { $seconds } seconds.
list-new = New
list-export = Export
list-count-more = more than { $count }
list-count-exact = Count all
list-count = { $count ->
    [one] 1 record
   *[other] { $count } records
}
list-filter = Filter and columns
list-apply = Apply
list-clear = Clear
list-columns = Columns
list-next = Next ›
list-first = « First
list-saved-views = Views
list-all = All
list-save-view = Save view
list-view-name = View name
list-delete-view = Delete this view
list-select-all = Select all
list-bulk-owner = Assign selected to
list-bulk-apply = Change owner
list-empty = Nothing here yet.
op-eq = is
op-ne = is not
op-lt = less than
op-lte = at most
op-gt = greater than
op-gte = at least
op-contains = contains
op-starts_with = starts with
op-in = is one of (comma-separated)
op-empty = is empty
op-not_empty = is not empty
detail-details = Details
detail-history = History
detail-edit = Edit
detail-delete = Delete
detail-change-owner = Change owner
detail-deleted-notice = In the recycle bin
detail-no-history = No changes recorded.
history-create = Created
history-update = Changed
history-delete = Deleted
history-restore = Restored
history-purge = Purged
history-field = Field
history-from = From
history-to = To
form-save = Save
form-cancel = Cancel
form-group-for = For { $values }
form-errors = Please correct the fields marked below.
form-new-title = New { $entity }
form-edit-title = Edit { $entity }
label-mobile = mobile
label-work = work
label-fax = fax
label-home = home
label-personal = personal
form-label = label
form-find = type to find…
form-one-per-line = one per line
record-unreadable = Record you cannot view
confirm-delete = Move this to the recycle bin?
confirm-purge = Delete this for good? This cannot be undone.
search-title = Search
search-none = No matching records.
bin-title = Recycle bin
bin-empty = The recycle bin is empty.
bin-entity = Type
bin-deleted-at = Deleted at
bin-deleted-by = Deleted by
bin-restore = Restore
bin-purge = Delete for good
error-title = Something went wrong
error-back = Go back
error-forbidden = You are not allowed to do this.
# Errors by code (codes in crates/core/src/error.rs, an entity's own in its area's file), with
# their params as variables. An error about one entry of a list or one part of a value is shown
# inside error-in-entry / error-in-part.
error-in-entry = Entry { $entry }: { $message }
error-in-part = { $part }: { $message }
error-field = { $field }: { $message }
error-separator = {"; "}
list-invalid-query = This filter, sort or page cannot be used. Change or clear the filter.
list-separator = {", "}
part-label = Label
error-validation_failed = Please check these fields: { $fields }
error-not_found = This record does not exist or you may not see it.
error-no_such_route = There is no such route.
error-unauthenticated = Log in or send a valid API token.
error-csrf_failed = The form has expired. Reload the page and try again.
error-version_conflict = Someone else changed this record in the meantime. Reload it and make your change again.
error-precondition_failed = Someone else changed this record in the meantime. Reload it and make your change again.
error-too_many_attempts = Too many failed attempts. Try again in { $seconds } seconds.
error-too_many_exports = Too many exports are running right now. Wait for one to finish, then try again.
error-internal = An internal error occurred.
error-filter_too_complex = { $unit ->
    [levels] A filter may nest and/or/not at most { $limit } levels deep
    [values] A filter may compare at most { $limit } values in all; this one has { $has }
   *[conditions] A filter may have at most { $limit } conditions; this one has { $has }
}
error-admin_only = Only administrators may do this.
error-role_cannot_read = Your role may not see records of type { $entity }.
error-role_cannot_write = Your role may not create or change records of type { $entity }.
error-record_out_of_reach = You may not change this record.
error-required = Required
error-too_long = At most { $max } characters
error-too_short = At least { $min } characters
error-control_characters = Must not contain control characters
error-deceptive_characters = Must not contain invisible direction or zero-width characters
error-not_a_string = Must be text
error-not_a_list = Must be a list
error-not_an_object = Must be an object
error-not_a_boolean = Must be true or false
error-not_a_whole_number = “{ $value }” is not a whole number
error-not_a_number = “{ $value }” is not a number
error-not_a_date = “{ $value }” is not a date (YYYY-MM-DD)
error-not_an_id = “{ $value }” is not an id
error-not_one_of = “{ $value }” is not one of: { $options }
error-out_of_range = Must be between { $min } and { $max }
error-too_large = Too large
error-too_many_entries = At most { $max } entries
error-unknown_key = Unknown key “{ $key }”
error-not_a_currency = “{ $value }” is not a three-letter currency code (ISO 4217)
error-too_many_decimals = { $currency } amounts have at most { $max } decimal places
error-invalid_phone = “{ $value }” is not a phone number
error-invalid_email = “{ $value }” is not an e-mail address
error-invalid_website = “{ $value }” is not a website address
error-invalid_tax_id = “{ $value }” is not a valid unified social credit code or tax id
error-already_in_use = “{ $value }” is already in use
error-unknown_field = Unknown field
error-read_only = Read-only
error-computed = Computed from other fields; cannot be set
error-no_such_record = { $entity } not found
error-in_recycle_bin = { $entity } is in the recycle bin
error-refers_to_itself = A record cannot refer to itself
error-own_ancestor = This would make the record its own ancestor
error-no_such_user = No such user
error-user_disabled = The user is disabled
error-owner_out_of_reach = You may not assign records to this user
error-not_a_date_time = “{ $value }” is not a date and time (RFC 3339)
error-nonexistent_local_time = { $value } does not exist in { $zone }: the clocks skip that hour when daylight saving starts; choose a time outside it
error-unknown_time_zone = “{ $value }” is not a time zone; choose one such as Asia/Shanghai
error-too_many_decimal_places = at most { $max } decimal places
error-not_a_line_of = is not one of the chosen { $entity }'s
error-state_by_action_only = cannot change from “{ $from_state }” to “{ $to_state }” directly; use { $actions }
error-action_not_in_state = “{ $actions }” cannot be done while it is “{ $from_state }”
error-state_change_not_allowed = cannot change from “{ $from_state }” to “{ $to_state }”
error-unknown_input = this action does not take this field
error-line_in_use = { $count ->
    [one] one { $entity } still uses a removed line; move it first
   *[other] { $count } { $entity } records still use the removed lines; move them first
}
error-no_such_team = No such team
error-password_same_as_email = Must not be your e-mail address
error-password_too_common = Too common or too easy to guess; choose a longer, less predictable password
error-wrong_password = Not your current password
error-cannot_demote_self = You cannot demote or disable yourself
error-admin_has_full_access = The administrator role always has full access
error-write_beyond_read = Cannot reach further than read
error-invalid_key = Start with a letter and use only a–z, 0–9 and _ (at most { $max })
error-label_required = Give a label in English or Chinese
settings-title = Settings
settings-language = Language
settings-display = Display
settings-money-format = Amounts
settings-time-zone = Time zone
settings-time-zone-default = Instance default ({ $zone })
settings-time-zone-common = Common
settings-time-zone-all = All time zones
settings-time-zone-suggested = Suggested from your browser; save to use it.
settings-display-saved = Display settings saved.
settings-tokens = API tokens
settings-new-token = Create token
settings-token-name = Name
settings-token-prefix = Starts with
settings-token-last-used = Last used
settings-token-created = Your new token is shown once. Copy it now:
settings-revoke = Revoke
settings-password = Password
settings-current-password = Current password
settings-new-password = New password
settings-wrong-password = The current password is wrong.
settings-new-password-invalid = New password: { $reason }
settings-keep-tokens = Keep my API tokens working
settings-password-changed = Password changed. Your other sessions have ended.
settings-password-changed-tokens-revoked = Password changed. Your other sessions have ended and your API tokens were revoked.
admin-users = Users
admin-teams = Teams
admin-roles = Roles
admin-custom-fields = Custom fields
admin-role = Role
admin-team = Team
admin-disabled = Disabled
admin-add = Add
admin-add-user = Add a user
admin-read = Read
admin-write = Write
admin-roles-help = What each role may see and change, per record type: only their own records, their team's, or all.
role-admin = Administrator
role-manager = Manager
role-sales = Sales
role-marketing = Marketing
role-service = Service
role-read_only = Read only
scope-none = none
scope-own = own
scope-team = team
scope-all = all
cf-key = Key
cf-label = Label
cf-label-en = Label (English)
cf-label-zh = Label (Chinese)
cf-kind = Type
cf-required = Required
cf-options = Options
cf-options-help = options, comma-separated
cf-add = Add a custom field
kind-text = Text
kind-long_text = Long text
kind-choice = Choice
kind-multi_choice = Multiple choice
kind-int = Whole number
kind-decimal = Number
kind-percent = Percentage
kind-money = Money
kind-date = Date
kind-date_time = Date and time
kind-duration = Duration
kind-bool = Yes / no
kind-url = Web address
kind-ref = Reference to a record
kind-user = User
kind-regarding = Regarding any record
cf-refers-to = Refers to (reference fields)
form-regarding-entity = Kind of record
duration-unit-hours = hours
duration-unit-minutes = minutes
yes = Yes
no = No
money-amount = amount
money-currency = currency
field-id = ID
addr-country = Country
addr-province = Province / state
addr-city = City
addr-district = District
addr-street = Street
addr-postal_code = Postal code
field-name = Name
field-owner_id = Owner
field-created_at = Created
field-created_by = Created by
field-updated_at = Updated
field-updated_by = Updated by
field-version = Version
field-phones = Phones
field-emails = E-mails
field-description = Description
label-in-en = English
label-in-zh-CN = 中文
duration-days = { $n } d
duration-hours = { $n } h
duration-minutes = { $n } min
done-create = Created
done-update = Saved
action-refused = That could not be done:

# Password reset by e-mail
login-forgot = Forgot your password?
reset-title = Reset your password
reset-intro = Enter the e-mail address you sign in with. We'll send you a link to choose a new password.
reset-send = Send me a link
reset-sent = If { $email } belongs to an account here, a link to choose a new password is on its way.
reset-sent-hint = The link works once and for 30 minutes. Nothing arrived? Check your spam folder, or ask again in a few minutes.
reset-no-mail = This server does not send e-mail, so passwords cannot be reset by e-mail. Ask your administrator to set a new password for you.
reset-back-to-login = Back to sign in
reset-choose-title = Choose a new password
reset-choose-for = For { $email }.
reset-confirm = New password again
reset-save = Set password
reset-mismatch = The two passwords differ. Type the same password twice.
reset-link-gone = This link no longer works: it was used already, or more than 30 minutes have passed.
reset-ask-again = Ask for a new link
reset-done = Your password is set. Sign in with it.
reset-unavailable = The password could not be reset just now. Try again in a moment.
error-reset_link_invalid = This password reset link was used already or has run out

# E-mails
mail-greeting = Hello { $name },
mail-link-hint = If the button does not work, open this address:
mail-reset-subject = Choose a new Guanxi password
mail-reset-body = Someone, probably you, asked to reset the password of your Guanxi account. Choose a new one with the button below.
mail-reset-expires = The link works once, for { $minutes } minutes.
mail-reset-action = Choose a new password
mail-reset-footer = If you did not ask for this, ignore this message: your password stays as it is.
mail-test-subject = Guanxi test message
mail-test-body = This is a test message from Guanxi. If you read it, outbound e-mail works.
mail-test-footer = Sent from Administration → E-mail.
mail-open-guanxi = Open Guanxi
mail-notice-action = Open in Guanxi
mail-notice-footer = You receive this because you chose to get these notifications by e-mail. Change that in Settings.

# E-mail choices
settings-email-notices = E-mail notifications
settings-email-notices-intro = Every notification shows under the bell. Tick the ones you also want by e-mail.
settings-email-notices-off = This server does not send e-mail; notifications show under the bell only.
settings-email-notices-saved = Your e-mail notification choices are saved.
notification-kind-reminder = Reminders on records I own

# Administration → E-mail
admin-mail = E-mail
admin-mail-settings = Outbound e-mail
admin-mail-off = No SMTP server is configured, so Guanxi sends no e-mail: no password resets, no notifications by e-mail. Add these lines to guanxi.toml and restart:
admin-mail-off-env = Or set the environment variables GUANXI_SMTP_HOST, GUANXI_SMTP_PORT, GUANXI_SMTP_TLS, GUANXI_SMTP_USER, GUANXI_SMTP_PASSWORD, GUANXI_MAIL_FROM and GUANXI_PUBLIC_URL.
admin-mail-server = Server
admin-mail-tls = Encryption
admin-mail-tls-none = None (only for a relay on this host or a private network)
admin-mail-tls-starttls = STARTTLS
admin-mail-tls-tls = TLS (SMTPS)
admin-mail-user = Login
admin-mail-no-login = None
admin-mail-password = Password
admin-mail-password-set = Set (not shown)
admin-mail-password-unset = Not set
admin-mail-from = Sender
admin-mail-public-url = Links in e-mails open
admin-mail-edit-hint = These settings come from guanxi.toml or GUANXI_* environment variables; change them there and restart.
admin-mail-test = Send a test message
admin-mail-test-to = To
admin-mail-test-send = Send test message
admin-mail-test-sent = The test message was handed to the mail server for { $email }.
admin-mail-test-settings = The e-mail settings cannot work: { $detail }
admin-mail-test-recipient = { $email } is not an address a message can be sent to.
admin-mail-test-refused = The mail server refused the message to { $email }: { $detail }
admin-mail-test-unavailable = The mail server could not be reached or did not answer: { $detail }
job-kind-email = E-mail
job-kind-notice-email = Notification by e-mail

# Reminders on records
reminders-title = Reminders
reminders-none = No reminders set.
reminders-for = for { $name }
reminders-cancel = Cancel
reminders-cancel-confirm = Cancel this reminder?
reminders-set = Set reminder
reminders-note-placeholder = e.g. Follow up on the quote
reminders-hint = At that time it shows in the bell of { $name }, the owner, and goes by e-mail if they chose so.
reminder-at = Remind at
reminder-note = Note
done-remind = Reminder set.
done-remind_cancel = Reminder cancelled.
history-remind = Reminder
field-reminder = Reminder
error-reminder_in_past = “{ $value }” has passed; choose a time in the future

# Aggregation
error-not_groupable = Records cannot be grouped by “{ $field }”: group by a choice, a reference, a user, a stage, yes/no, or a date by day, week, month, quarter or year (at most two)
error-not_measurable = “{ $field }” cannot be added up: sum, average, minimum and maximum take a number, an amount or a percentage
list-charts = Charts
chart-opportunity-amount_by_stage = Amount by stage
chart-opportunity-count_by_owner = Opportunities by owner
chart-none = (none)
chart-other = Others
chart-empty = Nothing to chart yet
list-charts-too-many = Charts are drawn for lists of up to 10,000 records: filter the list to see them.
job-kind-tidy = Daily tidy-up
job-kind-insights_refresh = Nightly customer insights refresh

## App shell
nav-skip = Skip to content
nav-main = Main navigation
nav-workspace = Workspace
nav-toggle = Show or hide navigation
nav-user-menu = User menu
nav-language = Language
area-customers = Customers
area-sales = Sales
area-activities = Activities
search-see-all = See all results
palette-title = Go to
palette-placeholder = Type a page, a record's name, or "new"…
palette-go = Open
palette-new = New
palette-new-record = New { $entity }
palette-keys = ↑↓ to choose · Enter to open · Esc to close
flash-undo = Undo

## What was just done
done-delete = Moved to the recycle bin.
done-restore = Restored.
done-purge = Deleted for good.
done-owner = Owner changed.
done-bulk_owner = { $count ->
    [one] Owner changed on 1 record.
   *[other] Owner changed on { $count } records.
}
done-follow_ups = { $count ->
    [one] 1 follow-up task created.
   *[other] { $count } follow-up tasks created, one for each record's owner.
}
done-view_saved = View saved.
done-view_deleted = View deleted.

## Lists: pages and views
list-range = { $from }–{ $to } of { $total }
list-pages = Pages
list-prev = ‹ Previous
list-page-n = Page { $n }
list-page-size = Per page
list-page-size-n = { $count } per page
list-select-one = Select “{ $name }”
list-delete-view-confirm = Delete the view “{ $name }”?
list-delete-view-named = Delete the view “{ $name }”
error-no_such_page = There is no such page. Check the address, or start from the navigation.
error-unknown_division = There is no division with that code.
error-address_not_recognized = The province, city and district of this address could not be recognised; please choose them.

## Filter bar
filter-add = Filter
filter-field = Field
filter-op = Condition
filter-value = Value
filter-next = Next
filter-change-field = choose another field
filter-number-hint = e.g. 1000000 or 100万
filter-remove = Remove the filter: { $what }
filter-remove-short = Remove this filter
filter-me = Me
list-column-up = Move “{ $column }” up
list-column-up-short = Move up

## The duplicate check (查重)
error-duplicate = A record of type { $entity } with the same { $rule ->
        [tax_id] tax ID
        [external_id] external ID
        [domain] web domain
        [phone] phone number
        [email] e-mail address
        [name_pinyin] name when read aloud
        [person_name] name
       *[name] name
    } already exists (owner: { $owner }).{ $action ->
        [block] {" "}It cannot be entered twice.
       *[warn] {" "}If this is a different one, you may still save it.
    }
addr-line = Address on one line
addr-line-hint = Paste a whole address to split it, e.g. 北京市丰台区科技园路382号
addr-line-not-recognized = The province, city and district could not be recognised; please choose them.
addr-choose = Choose
list-export-xlsx = Excel workbook (.xlsx)
list-export-csv = CSV (opens in Excel)
list-export-codes = For re-import (every field, codes)
list-export-hint = Exports the records the list shows, with its columns in its order.
form-label-of = Label of { $what }
form-add-another = Add another { $what }
detail-new-owner = New owner
detail-edit-field = Edit “{ $field }”
detail-edit-field-short = Edit
detail-edit-field-unknown = This field cannot be changed here; use Edit.

## Duplicate check on the form
dup-heading-warn = This may already be here; have a look first:
dup-heading-block = This is already here and cannot be entered twice:
dup-readable = { $title } ({ $rule }, owner: { $owner })
dup-unreadable = Already here: owner { $owner } ({ $rule })
dup-save-anyway = I have checked: this is a different one, save it anyway
dup-rule-tax_id = same unified social credit code
dup-rule-external_id = same external ID
dup-rule-domain = same web domain
dup-rule-phone = same phone
dup-rule-email = same e-mail
dup-rule-name = same name
dup-rule-name_pinyin = name sounds the same
dup-rule-person_name = same name
admin-dedupe = Duplicate rules
admin-dedupe-intro = When an account or contact is created or changed, these rules look for one already here. "Warn" lets the user save after checking; "Block" refuses the save.
admin-dedupe-rule = Rule
admin-dedupe-fields = Compares
admin-dedupe-action = On a match
admin-dedupe-warn = Warn
admin-dedupe-block = Block
admin-dedupe-default = (default)
done-dedupe_rule = Duplicate rule saved.
error-no_team_to_share_with = You belong to no team to share the view with
list-view-share = Share with my team
list-view-team = Team
list-view-shared = Shared with the team
list-view-shared-by = Shared by { $name }
error-no_records_chosen = Tick the records to change first.
error-no_owner_chosen = Choose the new owner.
list-plan = Plan follow-ups
list-plan-hint = A task for the owner of each ticked record, about it.
list-plan-subject = Task
list-plan-subject-example = e.g. Call to ask how they are getting on
list-plan-due = Due
list-plan-submit = Create the tasks
error-no_task_subject = Say what the follow-up task is.
error-bad_task_due = The due time is not a date and time.
select-search = Type to narrow (pinyin works)…
select-search-none = No match

# The home page
home-title = Home
home-morning = Good morning, { $name }
home-afternoon = Good afternoon, { $name }
home-evening = Good evening, { $name }
home-whose = Showing
home-whose-mine = My day
home-whose-team = My team
home-whose-show = Show
home-see-all = See all
home-tasks = Tasks
home-overdue = Overdue
home-due-today = Due today
home-tasks-none = Nothing due today. Nothing overdue.
home-new-activity = New activity
home-meetings = Today's schedule
home-meetings-none = Nothing scheduled today.
home-pipeline = Open pipeline by stage
home-pipeline-none = No open deals.
home-open-deals = { $count ->
    [one] one open deal
   *[other] { $count } open deals
}
home-closing = Closing this month
home-closing-none = No open deal is expected to close this month.
home-recent = Recently viewed
home-recent-none = Records you open will be listed here.
weekday-0 = Monday
weekday-1 = Tuesday
weekday-2 = Wednesday
weekday-3 = Thursday
weekday-4 = Friday
weekday-5 = Saturday
weekday-6 = Sunday

## Boards
board-title = Board
board-views = List or board
board-list = List
board-board = Board
board-show = Show
board-count = { $count } records
board-period = This quarter only (Q{ $quarter } { $year })
board-more = All { $count } in the list
board-empty = Nothing here
board-no-columns = There is nothing to show a board of yet.
board-move = Move
board-move-to = Move “{ $name }” to
board-drag = Drag to another column to move it
board-move-refused = “{ $name }” cannot move to “{ $stage }”: { $reasons }
done-board_move = Moved.
board-moved = “{ $name }” moved to { $stage }
board-close-heading = Move “{ $name }” to { $stage }
board-close-hint = Moving it here means “{ $action }”: fill in the details, then confirm.
board-fields-hint = Before it can move to “{ $stage }”, fill these in, then confirm.
board-close-confirm = Confirm
## Calendar
nav-calendar = Calendar
calendar-title = Calendar
calendar-move = Move through the calendar
calendar-prev = Previous
calendar-next = Next
calendar-today = Today
calendar-views = Calendar view
calendar-view-month = Month
calendar-view-week = Week
calendar-view-day = Day
calendar-whose = Whose calendar
calendar-show = Show
calendar-mine = My calendar
calendar-team = My team
calendar-legend = People on this calendar
calendar-more = { $count } more
calendar-new = New
calendar-new-at = New meeting at { $time }
calendar-new-on = New meeting on { $day }
calendar-empty-day = Nothing scheduled
calendar-all-day = All day
calendar-hint = Click an empty slot to schedule a meeting; drag an entry to move it.
calendar-hint-read = Click an entry to open it.
calendar-not-moved = Not moved: { $reason }
calendar-entry-not-moved = “{ $name }” was not moved: { $reason }
calendar-entry-not-moved-plain = “{ $name }” was not moved.
calendar-not-moved-plain = The entry was not moved.
calendar-stale = someone changed this entry in the meantime. The calendar now shows it as it is; try again.
done-rescheduled = Moved.
calendar-heading-month = { $month } { $year }
calendar-heading-week = { $from } – { $to }
calendar-date = { $month } { $day }, { $year }
calendar-weekday-1 = Mon
calendar-weekday-2 = Tue
calendar-weekday-3 = Wed
calendar-weekday-4 = Thu
calendar-weekday-5 = Fri
calendar-weekday-6 = Sat
calendar-weekday-7 = Sun
calendar-month-1 = January
calendar-month-2 = February
calendar-month-3 = March
calendar-month-4 = April
calendar-month-5 = May
calendar-month-6 = June
calendar-month-7 = July
calendar-month-8 = August
calendar-month-9 = September
calendar-month-10 = October
calendar-month-11 = November
calendar-month-12 = December
settings-calendar-feed = Calendar on your phone
settings-calendar-feed-intro = Subscribe to your feed address in your phone's calendar app (iPhone: Settings › Calendar › Accounts › Add Subscribed Calendar; Android: add it in Google Calendar on the web) to see your meetings, visits and open tasks there. Anyone with the address can read them: keep it to yourself.
settings-calendar-feed-none = You have no feed address yet.
settings-calendar-feed-made = Your feed address was made on { $time }. It is shown only once; if you lost it, make a new one.
settings-calendar-feed-new = Your feed address (copy it now, it will not be shown again):
settings-calendar-feed-create = Make a feed address
settings-calendar-feed-regenerate = Make a new address
settings-calendar-feed-regenerate-confirm = The old address will stop working. Make a new one?
settings-calendar-feed-revoke = Turn off the feed
settings-calendar-feed-revoked = Your calendar feed is turned off; its address no longer works.

# Backups and restores (guanxi backup / guanxi restore, and the scheduled backup).
error-backup_exists = { $file } already exists. Choose another name, or add --force to replace it.
error-backup_on_postgres = Guanxi does not copy a PostgreSQL database itself: back it up with PostgreSQL's own tool, for example pg_dump --format=custom --file=guanxi.dump "postgres://USER@HOST/DB" (see "Backups" in the README).
error-backup_in_memory = An in-memory database has no file to back up.
error-restore_no_file = There is no file { $file } to restore from.
error-restore_not_a_database = { $file } is not a Guanxi backup: it is not an SQLite database file.
error-restore_not_guanxi = { $file } is an SQLite database, but not a Guanxi one.
error-restore_damaged = { $file } is damaged and cannot be restored: { $problem }
error-restore_live_database = { $file } is a database in use (its write-ahead log { $file }-wal is beside it), not a backup. Take a backup of it with guanxi backup and restore that.
error-restore_newer_schema = { $file } was written by a newer version of Guanxi (it has { $migration }). Restore it with that version or a later one.
error-restore_target_not_empty = { $target } already holds data. A backup is restored only into a new, empty database: name a new file with --database.
error-restore_into_postgres = A PostgreSQL database is restored with pg_restore, for example pg_restore --no-owner --dbname="postgres://USER@HOST/NEWDB" guanxi.dump (see "Backups" in the README).
# Moving a whole database (guanxi export-all / guanxi import-all).
error-move_dir_not_empty = { $dir } already holds files. An export is written into a new or empty directory: name another one.
error-move_no_manifest = { $dir } holds no complete export: manifest.json is missing (an export that was cut off writes none). Export again with guanxi export-all.
error-move_bad_manifest = { $file } is not an export manifest this version of Guanxi reads: { $problem }
error-move_newer_schema = The export was written by a newer version of Guanxi (it has { $migration }). Import it with that version or a later one.
error-move_other_schema = The export's schema is not one this version of Guanxi knows (it has { $migration }). Import it with the version that wrote it.
error-move_target_not_empty = The target database already holds data (table { $table } has { $rows } rows). An export is imported only into a new, empty database: name another one with --database.
error-move_checksum_mismatch = { $file } has changed or is damaged since the export (its checksum differs from the manifest's). Nothing was imported; export again.
error-move_row_count_mismatch = { $file } holds { $found } rows, but the export wrote { $expected }. Nothing was imported; export again.
error-move_bad_row = Line { $line } of { $file } cannot be imported: { $problem }. Nothing was imported.
error-move_unknown_table = The export has { $table } { $column }, which this database does not have. Import it with the version of Guanxi that wrote it.
error-move_unsupported_type = Column { $column } of { $table } has the type { $type }, which an export cannot carry.
notification-backup_failed = { $reason ->
    [prune] The scheduled backup to { $dir } was written, but older backups could not be removed ({ $detail }).
    [space] Scheduled backup to { $dir } failed: the disk is full ({ $detail }). The earlier backups are kept.
    [directory] Scheduled backup to { $dir } failed: the directory cannot be created or written to ({ $detail }). The earlier backups are kept.
   *[other] Scheduled backup to { $dir } failed: the copy could not be completed ({ $detail }). The earlier backups are kept.
}
