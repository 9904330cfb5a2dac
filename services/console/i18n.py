"""Japanese and English: the console's words, the fields' names, and dates in the Japanese era.

The officer picks the language (a cookie, `?lang=`); Japanese is the default, as at the agency's desks.
A word missing in Japanese shows in English rather than not at all.
"""

from datetime import date, datetime
from typing import Any

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"

# (first day, name): the eras since 1926, newest first.
ERAS = ((date(2019, 5, 1), "令和"), (date(1989, 1, 8), "平成"), (date(1926, 12, 25), "昭和"))

WORDS: dict[str, tuple[str, str]] = {
    # key: (English, Japanese)
    "app": ("TITP registry console", "技能実習・育成就労 事務処理コンソール"),
    "skip": ("Skip to the content", "本文へ移動"),
    "dashboard": ("Today's work", "本日の業務"),
    "records": ("Records", "記録"),
    "charts": ("Statistics", "統計"),
    "public": ("Administrative actions (public)", "行政処分等の公表"),
    "sign_in": ("Sign in", "サインイン"),
    "sign_out": ("Sign out", "サインアウト"),
    "signed_in_as": ("Signed in as", "サインイン中"),
    "role": ("Role", "役割"),
    "organization": ("Organization id (organization roles only)", "団体ID（団体の役割のみ）"),
    "name": ("Your name", "氏名"),
    "dev_sign_in": ("Sign in with the development issuer", "開発用発行者でサインイン"),
    "oidc_sign_in": ("Sign in with the agency's identity provider", "機構の認証基盤でサインイン"),
    "language": ("日本語", "English"),
    "filter": ("Filter", "絞り込み"),
    "clear": ("Clear", "解除"),
    "next_page": ("Next page", "次のページ"),
    "first_page": ("First page", "最初のページ"),
    "no_rows": ("Nothing matches.", "該当する記録はありません。"),
    "open": ("Open", "開く"),
    "state": ("Current state", "現在の状態"),
    "state_as_of": ("State as of", "時点の状態"),
    "show": ("Show", "表示"),
    "history": ("History", "履歴"),
    "when": ("When", "日時"),
    "who": ("Who", "実施者"),
    "what": ("What", "内容"),
    "decisions": ("Decisions", "処分・決定"),
    "new_record": ("New", "新規"),
    "submit": ("Submit", "送信"),
    "cancel": ("Back", "戻る"),
    "required": ("required", "必須"),
    "one_a_line": ("one a line", "1行に1件"),
    "as_json": ("JSON", "JSON形式"),
    "refused": ("The service refused this", "受け付けられませんでした"),
    "rule": ("Rule", "規則"),
    "invalid": ("Some fields need correcting", "入力内容に誤りがあります"),
    "done": ("Recorded.", "記録しました。"),
    "version": ("Version", "版"),
    "not_reachable": ("A service did not answer", "サービスが応答しません"),
    "not_allowed": ("Your role may not see this", "この役割では閲覧できません"),
    "not_found": ("No such record", "該当する記録がありません"),
    "waiting_decision": ("Applications waiting for a decision", "決定待ちの申請"),
    "inspections_due": ("Inspections due in 30 days", "30日以内に期限の実地検査"),
    "inspections_overdue": ("Inspections overdue", "期限を過ぎた実地検査"),
    "reports_overdue": ("Improvement reports overdue", "提出期限を過ぎた改善報告"),
    "filings_overdue": ("Filings overdue", "提出期限を過ぎた届出・報告"),
    "needs_new_supervisor": ("Plans needing a new supervising organization", "監理団体の変更が必要な計画"),
    "coe_waiting": ("Certificate of eligibility applications waiting", "審査待ちの在留資格認定証明書交付申請"),
    "see_all": ("See all", "すべて表示"),
    "period_from": ("From", "開始日"),
    "period_to": ("To", "終了日"),
    "prefecture": ("Prefecture", "都道府県"),
    "kind_of_action": ("Kind of action", "処分の種類"),
    "scheme": ("Scheme", "制度"),
    "any": ("Any", "すべて"),
    "csv": ("Download CSV", "CSVをダウンロード"),
    "public_intro": (
        "Administrative actions taken against supervising organizations, supervision support organizations, "
        "employers and training plans, as the law requires them to be published. Newest first.",
        "法令に基づき公表する監理団体・監理支援機関・実習実施者・技能実習計画に対する行政処分等です。新しい順に表示します。",
    ),
    "plans_certified": ("Plans certified per month", "月別の計画認定件数"),
    "by_nationality": ("by nationality", "国籍別"),
    "by_field": ("by field", "分野別"),
    "inspections_per_quarter": ("Inspections per quarter", "四半期別の実地検査"),
    "done_count": ("Done", "実施"),
    "overdue_count": ("Overdue", "期限超過"),
    "total": ("Total", "合計"),
    "month": ("Month", "月"),
    "quarter": ("Quarter", "四半期"),
    "chart_table": ("The figures as a table", "数値（表）"),
    "from_year": ("Year", "年"),
    "not_yet": (
        "The record did not exist yet at the end of that day.",
        "その日の終わりの時点では、まだ記録がありません。",
    ),
    "cross_site": ("A form sent from another site is refused", "他のサイトから送信されたフォームは受け付けません"),
    # The public disclosure page: the kinds of action, schemes and organizations as the registry names them.
    "action_revocation": ("Permit revoked", "許可の取消し"),
    "action_suspension": ("Order to suspend the business", "事業停止命令"),
    "action_downgrade": ("Permit downgraded from general to specified", "一般監理事業から特定監理事業への変更"),
    "action_improvement_order": ("Improvement order", "改善命令"),
    "action_employer_improvement_order": (
        "Improvement order to an implementing organization",
        "実習実施者への改善命令",
    ),
    "action_plan_revocation": ("Training plan's certification revoked", "技能実習計画の認定の取消し"),
    "scheme_titp": ("Technical Intern Training", "技能実習"),
    "scheme_esd": ("Employment for Skill Development", "育成就労"),
    "org_supervising_organization": ("Supervising organization", "監理団体"),
    "org_supervision_support_organization": ("Supervision support organization", "監理支援機関"),
    "org_implementing_organization": ("Implementing organization", "実習実施者"),
    "scope_all": ("All of the business", "事業の全部"),
    "scope_part": ("Part of the business", "事業の一部"),
    "csv_all": ("every match, in one file", "該当するすべてを1つのファイルで"),
    "public_columns": ("Published administrative actions", "公表されている行政処分等"),
    # The charts.
    "from_month": ("From month", "開始月"),
    "to_month": ("To month", "終了月"),
    "month_hint": ("YYYY-MM; the last 12 months unless chosen", "YYYY-MM形式。指定がなければ直近12か月"),
    "other_values": ("Other", "その他"),
    "no_figures": ("No figures for this period.", "この期間の数値はありません。"),
    "stacked_desc": (
        "Stacked bars, one a month; each colour is one value, its height the number of plans certified.",
        "月ごとの積み上げ棒グラフ。色ごとに区分を示し、高さが認定件数です。",
    ),
    "grouped_desc": (
        "Two bars a quarter: inspections done in it and inspections overdue on its last day.",
        "四半期ごとに2本の棒。実施した実地検査の件数と、期末時点で期限を過ぎていた件数です。",
    ),
    "count_axis": ("Number", "件数"),
    "job_group_construction": ("Construction", "建設"),
    "job_group_food": ("Food manufacturing", "食品製造"),
    "job_group_machinery_metal": ("Machinery and metal", "機械・金属"),
    "job_group_agriculture": ("Agriculture", "農業"),
    "job_group_textiles": ("Textiles and clothing", "繊維・衣服"),
    "job_group_other": ("Other jobs", "その他の職種"),
}

RESOURCES: dict[str, tuple[str, str]] = {
    "supervising-organizations": ("Supervising organizations", "監理団体"),
    "supervision-support-organizations": ("Supervision support organizations (ESD)", "監理支援機関（育成就労）"),
    "implementing-organizations": ("Employers (implementing organizations)", "実習実施者"),
    "sending-organizations": ("Sending organizations", "送出機関"),
    "training-plans": ("Training plans", "技能実習計画・育成就労計画"),
    "inspections": ("Inspections", "実地検査"),
    "filings": ("Filings", "届出・報告"),
    "coe-applications": ("Certificate of eligibility applications", "在留資格認定証明書交付申請"),
    "visas": ("Visas", "査証"),
    "consultations": ("Trainees' consultations", "実習生からの相談・申告"),
    "status-changes": ("Changes of status of residence", "在留資格の変更"),
}

# Decisions by the last part of their route (POST /v1/<resource>/{id}/<name>), in Japanese.
DECISIONS_JA: dict[str, str] = {
    "new": "新規の申請・登録",
    "grant": "許可",
    "deny": "不許可",
    "renew": "更新",
    "downgrade": "許可の区分の変更",
    "suspend": "事業停止命令",
    "revoke": "取消し",
    "improvement-orders": "改善命令",
    "certify": "認定",
    "reject": "不認定",
    "complete": "修了",
    "discontinue": "中止（実習実施困難）",
    "reassign": "監理団体の変更",
    "changes": "変更認定の申請",
    "minor-changes": "軽微な変更の届出",
    "issue": "交付",
    "withdraw": "取下げ・撤回",
    "staff": "常勤職員数の届出",
    "supervision": "監理の開始",
    "supervision/end": "監理の終了",
    "improvement-report": "改善報告の受理",
    "audit-reports": "監査報告",
    "fees": "送出し前の費用の申告",
    "pause": "実習の一時中断",
    "resume": "実習の再開",
    "early-return": "途中帰国の届出",
    "early-return/decision": "途中帰国の決定（機構）",
}

# Field names as the services name them (snake_case), in Japanese; English is the name in words.
FIELDS_JA: dict[str, str] = {
    "id": "ID",
    "name": "名称",
    "status": "状態",
    "status_on": "状態の基準日",
    "lifecycle": "手続の段階",
    "prefecture": "都道府県",
    "address": "所在地",
    "corporate_number": "法人番号",
    "representative": "代表者",
    "permit_type": "許可の区分",
    "requested_permit_type": "申請した許可の区分",
    "granted_on": "許可日",
    "applied_on": "申請日",
    "valid_from": "有効期間の開始日",
    "expires_on": "有効期間の満了日",
    "renewed_on": "更新日",
    "excellent_record": "優良要件への適合",
    "meets_excellence_standard": "優良要件への適合",
    "effective_on": "効力発生日",
    "issued_on": "発行日",
    "deadline": "期限",
    "reason": "理由",
    "ground": "根拠",
    "from_date": "開始日",
    "until_date": "末日",
    "scope": "範囲",
    "revoked_on": "取消日",
    "certified_on": "認定日",
    "completed_on": "修了日",
    "exam_result": "試験結果",
    "on": "日付",
    "scheme": "制度",
    "stage": "段階",
    "field": "分野",
    "job_category": "職種",
    "operation": "作業",
    "training_type": "実習の類型",
    "trainee": "実習生",
    "trainee_id": "実習生ID",
    "implementing_organization_id": "実習実施者ID",
    "supervising_organization_id": "監理団体ID",
    "sending_organization_id": "送出機関ID",
    "supervision_support_organization_id": "監理支援機関ID",
    "training_plan_id": "計画ID",
    "start_date": "開始日",
    "end_date": "終了日",
    "monthly_wage": "月額賃金",
    "country": "国",
    "industry": "業種",
    "registered_on": "登録日",
    "full_time_staff": "常勤職員数",
    "target_type": "対象の種類",
    "target_id": "対象ID",
    "scheduled_on": "予定日",
    "due_by": "実施期限",
    "due_before": "期限（この日より前）",
    "overdue_as_of": "期限超過の基準日",
    "inspected_on": "検査日",
    "inspector": "検査官",
    "findings": "指摘事項",
    "outcome": "結果",
    "referral": "通報",
    "received_on": "受理日",
    "kind": "種類",
    "due_on": "提出期限",
    "filed_on": "提出日",
    "overdue": "期限超過",
    "post": "在外公館",
    "coe_id": "認定証明書ID",
    "decided_on": "決定日",
    "denial_reason": "不許可の理由",
    "approval_reference": "認定番号",
    "signed_on": "締結日",
    "as_of": "基準日",
    "version": "版",
    "action": "処分の種類",
    "organization_name": "団体の名称",
    "period": "期間",
    "detail": "詳細",
    "nationality": "国籍",
    "count": "件数",
    "action_date": "処分日",
    "legal_basis": "根拠条項",
    "organization_type": "団体の種類",
    "from": "開始日",
    "to": "終了日",
}


def word(key: str, lang: str) -> str:
    english, japanese = WORDS.get(key, (key, key))
    return japanese if lang == "ja" else english


def resource_name(resource: str, lang: str) -> str:
    english, japanese = RESOURCES.get(resource, (resource, resource))
    return japanese if lang == "ja" else english


def label_of(name: str, lang: str) -> str:
    english = name.replace("_", " ").capitalize().replace(" id", " ID")
    return FIELDS_JA.get(name, english) if lang == "ja" else english


def era_year(day: date) -> str:
    """`2026-12-04` -> `令和8`: the era and its year (the first year of an era is 元)."""
    for first, name in ERAS:
        if day >= first:
            year = day.year - first.year + 1
            return f"{name}{'元' if year == 1 else year}"
    return str(day.year)


def era(day: date) -> str:
    """`2026-12-04` -> `令和8年12月4日`."""
    return f"{era_year(day)}年{day.month}月{day.day}日" if day >= ERAS[-1][0] else day.isoformat()


def as_day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return datetime.fromisoformat(value).date() if len(value) > 10 else date.fromisoformat(value)
        except ValueError:
            return None
    return None


def show_date(value: Any, lang: str) -> str:
    """A date as the officer reads it: ISO in English, the era and the Western year in Japanese."""
    day = as_day(value)
    if day is None:
        return str(value)
    if lang == "ja":
        return f"{era(day)}（{day.year}年）"
    return day.strftime("%-d %b %Y")


def event_name(event_type: str) -> str:
    """`titp.registry.PermitGranted.v1` -> `PermitGranted`."""
    parts = event_type.split(".")
    if len(parts) > 1 and parts[-1].startswith("v") and parts[-1][1:].isdigit():
        parts = parts[:-1]
    return parts[-1]


def decision_name(name: str, summary: str, lang: str) -> str:
    return DECISIONS_JA.get(name, summary) if lang == "ja" else summary
