#!/usr/bin/env python3
"""Writes the retrieval corpus: docs/**.md, the memory of an operator's assistant at a small
software company (people, projects, services, runbooks, decisions, meetings, incidents,
preferences). The facts are the tables below; the prose around them is picked from several
phrasings with a fixed seed, so running this again writes the same files.

The queries (queries.tsv) are written by hand against these facts; this script never reads
them. Run from anywhere: python3 crates/goclaw-memory/corpus/generate.py
"""

import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent / "docs"
rng = random.Random(20261206)


def pick(options):
    return rng.choice(options)


# name, role, team, city, drink, editor, note
PEOPLE = [
    ("Priya Raman", "staff engineer", "payments", "Bangalore", "masala chai", "Neovim", "prefers async reviews over calls"),
    ("Tomas Novak", "site reliability engineer", "platform", "Prague", "espresso", "Emacs", "is the primary on-call for the database fleet in odd weeks"),
    ("Aiko Tanaka", "product manager", "growth", "Osaka", "matcha", "Notion", "runs the Thursday roadmap review"),
    ("Marcus Bell", "engineering manager", "platform", "Manchester", "black coffee", "VS Code", "approves all production access requests"),
    ("Lena Fischer", "security engineer", "security", "Berlin", "sparkling water", "Vim", "owns the quarterly key rotation"),
    ("Diego Alvarez", "backend engineer", "payments", "Buenos Aires", "mate", "IntelliJ", "wrote most of the refund service"),
    ("Sofia Rossi", "designer", "growth", "Milan", "cappuccino", "Figma", "maintains the design system tokens"),
    ("Kwame Mensah", "data engineer", "analytics", "Accra", "hibiscus tea", "VS Code", "built the nightly warehouse load"),
    ("Hannah Kim", "frontend engineer", "growth", "Seoul", "iced americano", "WebStorm", "is allergic to peanuts"),
    ("Oliver Grant", "CTO", "leadership", "London", "earl grey", "Vim", "signs off on every architecture decision record"),
    ("Fatima Zahra", "QA lead", "quality", "Casablanca", "mint tea", "VS Code", "keeps the release checklist"),
    ("Jonas Berg", "backend engineer", "platform", "Oslo", "filter coffee", "Helix", "maintains the internal CLI"),
    ("Mei Lin", "machine learning engineer", "search", "Taipei", "oolong tea", "PyCharm", "trains the ranking models"),
    ("Rahul Mehta", "support engineer", "support", "Pune", "filter coffee", "VS Code", "triages the support queue every morning"),
    ("Chloe Dubois", "technical writer", "docs", "Lyon", "hot chocolate", "Obsidian", "edits the public changelog"),
    ("Ivan Petrov", "database administrator", "platform", "Sofia", "green tea", "DataGrip", "tunes PostgreSQL vacuum settings"),
    ("Grace Okafor", "head of customer success", "support", "Lagos", "rooibos", "Google Docs", "owns the enterprise renewals"),
    ("Noah Schwartz", "mobile engineer", "growth", "Tel Aviv", "cold brew", "Xcode", "ships the iOS app every second Tuesday"),
    ("Elif Yilmaz", "data scientist", "analytics", "Istanbul", "turkish coffee", "JupyterLab", "runs the churn model"),
    ("Sam Carter", "intern", "platform", "Toronto", "energy drinks", "VS Code", "is on the team until the end of August"),
    ("Ana Souza", "recruiter", "people", "Lisbon", "galão", "Google Sheets", "schedules all engineering interviews"),
    ("Yusuf Demir", "network engineer", "platform", "Ankara", "black tea", "Vim", "manages the office VPN and firewall"),
    ("Beatrix Horvath", "finance controller", "finance", "Budapest", "decaf latte", "Excel", "approves cloud spend above five thousand euros"),
    ("Liam O'Connor", "sales engineer", "sales", "Dublin", "flat white", "VS Code", "runs customer demos on the staging cluster"),
    ("Zara Ahmed", "legal counsel", "legal", "Karachi", "cardamom tea", "Word", "reviews every data processing agreement"),
]

# codename, goal, owner, status, stack, deadline, detail
PROJECTS = [
    ("Atlas", "move every service to the new Kubernetes cluster", "Tomas Novak", "in progress", "Kubernetes, Helm, Argo CD", "end of Q3", "the last blocker is the legacy cron host"),
    ("Beacon", "a customer status page with incident history", "Jonas Berg", "shipped", "Go, static site, CloudFront", "shipped in March", "status.example.com is served from a CDN"),
    ("Cobalt", "rewrite the refund service in Rust", "Diego Alvarez", "in progress", "Rust, Axum, PostgreSQL", "November", "refunds above ten thousand euros still go through the old service"),
    ("Driftwood", "archive cold customer data to object storage", "Kwame Mensah", "planned", "Parquet, S3, Airflow", "next year", "retention is seven years for invoices"),
    ("Ember", "dark mode and accessibility fixes for the dashboard", "Sofia Rossi", "in progress", "React, CSS variables", "October", "contrast ratio target is 4.5 to 1"),
    ("Fjord", "self-serve single sign-on for enterprise customers", "Lena Fischer", "in review", "SAML, OIDC, Keycloak", "September", "Okta and Azure AD are the first two identity providers"),
    ("Gemstone", "a new search ranking model", "Mei Lin", "experiment", "Python, LightGBM, ONNX", "end of quarter", "offline NDCG improved from 0.61 to 0.67"),
    ("Harbor", "usage-based billing", "Priya Raman", "in progress", "Kafka, PostgreSQL, Stripe", "January", "meter events are aggregated hourly"),
    ("Ironclad", "SOC 2 type II audit", "Lena Fischer", "in progress", "Vanta, policies", "December", "the audit window started on the first of June"),
    ("Juniper", "mobile offline mode", "Noah Schwartz", "paused", "Swift, SQLite, Kotlin", "unknown", "paused until the sync protocol is redesigned"),
    ("Kestrel", "replace the homegrown feature flags with an open source service", "Jonas Berg", "done", "Unleash", "done in May", "flags older than ninety days are reported weekly"),
    ("Lighthouse", "a churn prediction dashboard for customer success", "Elif Yilmaz", "in progress", "dbt, Metabase, XGBoost", "November", "the model is retrained every Sunday"),
    ("Monsoon", "multi-region failover for the API", "Tomas Novak", "planned", "PostgreSQL logical replication, Route 53", "next spring", "target recovery time is fifteen minutes"),
    ("Nightjar", "quiet hours for notifications", "Aiko Tanaka", "shipped", "Go, Redis", "shipped in July", "quiet hours default to 22:00 to 07:00 local time"),
    ("Obsidian", "an internal knowledge base search", "Chloe Dubois", "in progress", "Elasticsearch, Markdown", "October", "it indexes the handbook and the runbooks"),
    ("Pelican", "cut cloud costs by twenty percent", "Beatrix Horvath", "in progress", "reserved instances, rightsizing", "end of year", "savings so far are eleven percent"),
    ("Quartz", "upgrade PostgreSQL from 13 to 16", "Ivan Petrov", "in progress", "pg_upgrade, logical replication", "August", "the upgrade of the billing cluster is scheduled for a Sunday night"),
    ("Raven", "a Slack bot that answers on-call questions", "Rahul Mehta", "prototype", "Python, Slack Bolt", "unknown", "it reads the runbooks and the incident log"),
    ("Sequoia", "data warehouse migration from Redshift to BigQuery", "Kwame Mensah", "in progress", "BigQuery, dbt, Fivetran", "December", "the dual-write period lasts one month"),
    ("Tundra", "cold start time of the mobile app under two seconds", "Noah Schwartz", "in progress", "Swift, Instruments", "October", "the current cold start is 3.4 seconds on an iPhone 12"),
    ("Umbra", "secrets management with Vault", "Lena Fischer", "shipped", "HashiCorp Vault, Kubernetes auth", "shipped in February", "static database passwords were removed"),
    ("Vortex", "event streaming platform consolidation", "Priya Raman", "planned", "Kafka, Debezium", "next year", "RabbitMQ will be retired"),
    ("Willow", "onboarding checklist automation", "Ana Souza", "shipped", "Google Apps Script", "shipped in April", "new hires get laptops on day one"),
    ("Xenon", "load testing harness", "Jonas Berg", "in progress", "k6, Grafana", "September", "the target is five thousand requests per second on checkout"),
    ("Yarrow", "GDPR data export self-service", "Zara Ahmed", "in review", "Go, S3 presigned URLs", "October", "exports expire after seven days"),
    ("Zephyr", "the new marketing website", "Sofia Rossi", "shipped", "Astro, Netlify", "shipped in June", "the blog moved from WordPress"),
]

# host, role, region, os, address, detail
HOSTS = [
    ("db-prod-1", "primary PostgreSQL 15 for production", "eu-west-1", "Debian 12", "10.20.1.11", "streams to db-prod-2 and db-prod-3"),
    ("db-prod-2", "synchronous PostgreSQL replica", "eu-west-1", "Debian 12", "10.20.1.12", "takes over when db-prod-1 fails"),
    ("db-prod-3", "asynchronous PostgreSQL replica for analytics queries", "eu-west-1", "Debian 12", "10.20.2.13", "lags up to thirty seconds"),
    ("db-staging-1", "staging PostgreSQL", "eu-west-1", "Debian 12", "10.30.1.11", "restored from a production snapshot every Monday with masked data"),
    ("redis-prod-1", "Redis 7 cache and rate limit store", "eu-west-1", "Debian 12", "10.20.3.21", "maxmemory is 8 GB with allkeys-lru"),
    ("kafka-prod-1", "Kafka broker one of three", "eu-west-1", "Ubuntu 22.04", "10.20.4.31", "retention is seven days"),
    ("bastion-1", "SSH bastion for production", "eu-west-1", "Debian 12", "34.250.17.9", "only reachable over the office VPN"),
    ("ci-runner-1", "self-hosted CI runner", "eu-central-1", "Ubuntu 22.04", "10.40.1.5", "has 32 cores and runs the integration tests"),
    ("ci-runner-2", "self-hosted CI runner for arm64 builds", "eu-central-1", "Ubuntu 22.04", "10.40.1.6", "builds the multi-arch container images"),
    ("vpn-gw-1", "WireGuard VPN gateway for the office", "office", "OpenWrt", "192.168.10.1", "peers are rotated every ninety days"),
    ("mail-relay-1", "outbound mail relay", "eu-west-1", "Debian 12", "10.20.5.41", "sends through Postmark with DKIM selector pm2024"),
    ("grafana-1", "Grafana and Prometheus", "eu-west-1", "Debian 12", "10.20.6.51", "keeps metrics for ninety days"),
    ("backup-1", "backup server running pgBackRest", "us-east-1", "Debian 12", "10.50.1.61", "stores encrypted backups in a second region"),
    ("search-prod-1", "Elasticsearch node", "eu-west-1", "Ubuntu 22.04", "10.20.7.71", "heap is 16 GB"),
    ("legacy-cron-1", "the old cron host that runs invoice reminders", "eu-west-1", "CentOS 7", "10.20.8.81", "is the last CentOS machine and must be retired for Atlas"),
    ("k8s-prod", "production Kubernetes cluster", "eu-west-1", "EKS 1.29", "api.k8s.internal", "has three node groups: general, memory and gpu"),
]

DECISIONS = [
    ("0007", "PostgreSQL as the only production database", "We use PostgreSQL for production data. MySQL and MongoDB were considered; PostgreSQL won because the team knows it and it handles JSON well enough."),
    ("0008", "Rust for new backend services", "New backend services are written in Rust. Go stays for existing services. The reason is fewer production crashes and lower memory use."),
    ("0009", "Trunk-based development", "Everyone merges to main at least daily behind feature flags. Long-lived branches are not allowed."),
    ("0010", "Squash merges", "Pull requests are squash merged so that main has one commit per change."),
    ("0011", "Terraform for infrastructure", "All cloud resources are managed by Terraform in the infra repository. Clicking in the console is only allowed in an incident."),
    ("0012", "No Friday deploys after 15:00", "Production deployments stop at 15:00 on Fridays. Hotfixes need approval from the on-call engineer."),
    ("0013", "Observability with OpenTelemetry", "Services emit traces through OpenTelemetry to Grafana Tempo. Jaeger was dropped."),
    ("0014", "Stripe as the payment processor", "Stripe replaced Adyen in 2024 because of simpler billing APIs, even though fees are slightly higher."),
    ("0015", "Monorepo for the frontend", "The web dashboard, the marketing site and the design system live in one pnpm workspace."),
    ("0016", "English as the working language", "All written communication, tickets and code comments are in English."),
    ("0017", "Four-eyes rule for production access", "Production database access requires a second person to approve the request in the access tool."),
    ("0018", "Semantic versioning for the public API", "The public API uses semantic versioning; breaking changes need six months of deprecation notice."),
    ("0019", "Postmortems are blameless", "Every incident of severity two or higher gets a blameless postmortem within five working days."),
    ("0020", "Kafka over RabbitMQ", "New event streams go to Kafka. RabbitMQ is kept for the legacy email queue until Vortex retires it."),
    ("0021", "Renovate for dependency updates", "Renovate opens dependency pull requests every Monday; security updates are merged within a week."),
    ("0022", "Remote-first", "The company is remote-first. The Lisbon office is optional and used for the quarterly offsite."),
    ("0023", "Feature flags expire", "A feature flag must be removed within ninety days after it reaches one hundred percent."),
    ("0024", "Secrets live in Vault", "No secret may be stored in environment files or in the repository; services read them from Vault."),
    ("0025", "Default timezone UTC", "Servers, logs and cron schedules use UTC. Dashboards show the viewer's local time."),
    ("0026", "Code review within one working day", "A pull request gets a first review within one working day; reviewers are assigned by CODEOWNERS."),
]

INCIDENTS = [
    ("INC-2041", "2026-01-14", "checkout latency", "A missing index on orders.customer_id made checkout take eight seconds. Fixed by creating the index concurrently.", "Ivan Petrov"),
    ("INC-2057", "2026-02-03", "expired TLS certificate", "The certificate of the webhook endpoint expired because the renewal job ran on a deleted host. cert-manager now renews it.", "Yusuf Demir"),
    ("INC-2063", "2026-02-21", "Kafka disk full", "kafka-prod-1 filled its disk after retention was set to thirty days by mistake. Retention is back to seven days and a disk alert fires at 80 percent.", "Tomas Novak"),
    ("INC-2078", "2026-03-09", "duplicate refunds", "A retry without an idempotency key refunded 37 orders twice. The refund service now sends idempotency keys to Stripe.", "Diego Alvarez"),
    ("INC-2090", "2026-03-30", "login outage", "The identity provider rate limited our token refreshes for 40 minutes. Tokens are now cached until five minutes before expiry.", "Lena Fischer"),
    ("INC-2104", "2026-04-18", "replica lag", "db-prod-3 lagged six hours behind during a bulk import, so analytics dashboards showed stale numbers.", "Ivan Petrov"),
    ("INC-2117", "2026-05-06", "mobile crash on launch", "iOS build 5.12.0 crashed on launch for users with an empty profile picture. Build 5.12.1 fixed it within four hours.", "Noah Schwartz"),
    ("INC-2125", "2026-05-27", "email delivery delay", "Transactional emails were delayed by two hours because the mail relay hit the Postmark sending limit.", "Rahul Mehta"),
    ("INC-2139", "2026-06-15", "CI outage", "ci-runner-1 ran out of inodes because Docker layers were never pruned. A nightly prune job now runs at 03:00 UTC.", "Jonas Berg"),
    ("INC-2146", "2026-07-02", "wrong invoice totals", "Invoices for customers in Switzerland applied the German VAT rate for one billing cycle. Credit notes were issued.", "Priya Raman"),
    ("INC-2158", "2026-07-24", "search index corruption", "search-prod-1 lost a shard after an unclean shutdown; the index was rebuilt from PostgreSQL in ninety minutes.", "Mei Lin"),
    ("INC-2163", "2026-08-11", "VPN down", "The office VPN gateway rebooted into an old firmware after a power cut, so nobody could reach the bastion for an hour.", "Yusuf Demir"),
]

RUNBOOKS = [
    ("failover-postgres", "Failing over the production database",
     ["Confirm db-prod-1 is really down: check the Grafana panel 'pg primary up' and try psql from bastion-1.",
      "Page Ivan Petrov and Tomas Novak. Open an incident channel named inc-db-failover.",
      "Promote db-prod-2 with patronictl failover --candidate db-prod-2 --force.",
      "Point the pgbouncer upstream to db-prod-2 and reload pgbouncer on every app node.",
      "Check replication of db-prod-3 from the new primary; rebuild it with pg_basebackup if it cannot follow.",
      "Write the timeline in the incident log. Error code PGF-0419 in the app logs means the pool still points at the old primary."]),
    ("restore-backup", "Restoring a database from backup",
     ["Backups are taken by pgBackRest on backup-1 every night at 01:30 UTC, with WAL archiving in between.",
      "List backups with pgbackrest --stanza=prod info.",
      "Restore into a new instance, never over the running primary: pgbackrest --stanza=prod --delta --type=time --target='2026-05-01 10:00:00+00' restore.",
      "The encryption passphrase is in Vault under secret/backup/pgbackrest.",
      "A full restore of the 900 GB production database takes about three hours.",
      "Restore tests run on the first Tuesday of every month; the last result is in the ops calendar."]),
    ("rotate-keys", "Rotating encryption keys",
     ["Lena Fischer owns the quarterly key rotation; the next one is in the first week of the quarter.",
      "Generate the new key in Vault transit: vault write -f transit/keys/app/rotate.",
      "Re-encrypt stored secrets with the rewrap job: kubectl create job rewrap-$(date +%s) --from=cronjob/secrets-rewrap.",
      "Keep the previous key version enabled for decryption for thirty days.",
      "Record the new key version number in the security log, ticket SEC-318."]),
    ("deploy", "Deploying a service",
     ["Merging to main builds an image and Argo CD syncs it to staging automatically.",
      "Promote to production by merging the release pull request in the deploy repository.",
      "Watch the error rate on the service dashboard for fifteen minutes after the rollout.",
      "Roll back with argocd app rollback <service> <revision>; do not revert in git during an incident.",
      "No production deployments after 15:00 on Fridays (ADR 0012).",
      "Database migrations run as a Kubernetes job before the new pods start; a failed migration stops the rollout."]),
    ("on-call", "On-call handbook",
     ["The on-call rotation changes on Monday at 10:00 UTC. PagerDuty schedule name: platform-primary.",
      "Acknowledge a page within five minutes and start an incident channel for severity one and two.",
      "Escalate to Marcus Bell if the primary does not answer within fifteen minutes.",
      "On-call engineers get a day off after a week with a night page.",
      "The status page (Beacon) must be updated within ten minutes of a customer-facing incident."]),
    ("vpn-access", "Getting VPN access",
     ["Ask Yusuf Demir for a WireGuard peer; send him your public key, never the private key.",
      "The VPN endpoint is vpn.example.com on UDP port 51820.",
      "Allowed networks are 10.20.0.0/16 (production, through the bastion only) and 10.30.0.0/16 (staging).",
      "Peers unused for ninety days are removed automatically."]),
    ("cert-renewal", "Renewing TLS certificates",
     ["cert-manager renews Let's Encrypt certificates thirty days before expiry.",
      "The wildcard certificate for *.example.com uses the DNS-01 challenge through Route 53.",
      "If a renewal fails, check the cert-manager logs for error ACME-429, which means we hit the rate limit.",
      "The legacy webhook endpoint still has a manually uploaded certificate that expires on 2026-11-30."]),
    ("kafka-ops", "Operating Kafka",
     ["There are three brokers, kafka-prod-1 to kafka-prod-3, with replication factor three.",
      "Default retention is seven days; the audit topic keeps data for one year.",
      "Add partitions with kafka-topics.sh --alter only after checking consumers handle rebalancing.",
      "Consumer lag alerts fire when the billing-meter consumer group lags more than fifty thousand messages."]),
]

MEETINGS = [
    ("2026-06-02", "platform weekly", ["Tomas Novak", "Marcus Bell", "Jonas Berg", "Ivan Petrov"], ["Atlas migration is at 70 percent of services", "legacy-cron-1 still blocks Atlas", "Ivan to schedule the Quartz upgrade of the billing cluster"]),
    ("2026-06-09", "roadmap review", ["Aiko Tanaka", "Oliver Grant", "Sofia Rossi", "Noah Schwartz"], ["Ember slips to October", "Juniper is paused until the sync protocol is redesigned", "Nightjar ships in July"]),
    ("2026-06-16", "security sync", ["Lena Fischer", "Zara Ahmed", "Oliver Grant"], ["Ironclad audit window started", "Fjord needs a decision on pricing for SSO", "key rotation moved to the first week of the quarter"]),
    ("2026-06-23", "payments standup", ["Priya Raman", "Diego Alvarez", "Beatrix Horvath"], ["Harbor meter events aggregated hourly", "Cobalt handles refunds under ten thousand euros", "Stripe fees reviewed"]),
    ("2026-06-30", "data team sync", ["Kwame Mensah", "Elif Yilmaz", "Mei Lin"], ["Sequoia dual-write starts in October", "Lighthouse model retrained weekly", "Gemstone offline results look good"]),
    ("2026-07-07", "incident review", ["Tomas Novak", "Jonas Berg", "Rahul Mehta"], ["INC-2139 CI outage: nightly prune job added", "INC-2125 email delay: ask Postmark for a higher limit"]),
    ("2026-07-14", "customer success sync", ["Grace Okafor", "Liam O'Connor", "Aiko Tanaka"], ["two enterprise renewals at risk", "customers ask for SSO (Fjord)", "demo environment was slow last week"]),
    ("2026-07-21", "offsite planning", ["Ana Souza", "Oliver Grant", "Marcus Bell"], ["quarterly offsite in the Lisbon office on September 15", "budget approved by Beatrix Horvath", "hotel booked near Cais do Sodré"]),
    ("2026-07-28", "cost review", ["Beatrix Horvath", "Tomas Novak", "Kwame Mensah"], ["Pelican savings at eleven percent", "reserved instances for the database fleet", "BigQuery slots to be capped"]),
    ("2026-08-04", "hiring sync", ["Ana Souza", "Marcus Bell", "Priya Raman"], ["two backend roles open in payments", "interview loop has four stages", "Sam Carter's internship ends in August"]),
    ("2026-08-11", "platform weekly", ["Tomas Novak", "Yusuf Demir", "Ivan Petrov"], ["INC-2163 VPN outage after the power cut", "UPS to be installed for the office network", "Monsoon design doc due in September"]),
    ("2026-08-18", "release planning", ["Fatima Zahra", "Noah Schwartz", "Hannah Kim"], ["iOS release train every second Tuesday", "release checklist gets an accessibility step", "Tundra cold start at 3.4 seconds"]),
]

PREFERENCES = [
    ("communication", ["Keep answers short; bullet points over paragraphs.", "Write in British English.", "Never send messages to customers without asking me first.", "Summaries go to the #ops-digest Slack channel at 09:00 local time."]),
    ("schedule", ["I work from 08:30 to 17:00 Lisbon time.", "No meetings on Wednesday mornings; that is focus time.", "Remind me about one-on-ones a day in advance.", "I take Fridays off in August."]),
    ("travel", ["Prefer trains over flights for trips under five hours.", "Aisle seat, never middle.", "Hotels within walking distance of the venue.", "Frequent flyer number is in the password manager, not in notes."]),
    ("coding", ["Prefer small pull requests under four hundred lines.", "Run cargo clippy before proposing Rust changes.", "Use conventional commit messages.", "Tabs are never used in YAML files."]),
    ("reporting", ["Weekly report every Friday at 16:00 with incidents, deploys and costs.", "Costs are reported in euros, rounded to the nearest hundred.", "Include the error budget burn for the API."]),
    ("food", ["Vegetarian; no fish either.", "Team lunch orders go through the office card.", "Favourite lunch place near the office is Tasca do Chico."]),
    ("tools", ["Calendar is Google Calendar; tasks are in Linear.", "Notes in Obsidian, synced through git.", "Password manager is 1Password, vault name Ops."]),
    ("security", ["Never paste secrets into chat.", "Ask before running anything on production hosts.", "Two-factor codes are never shared, even with colleagues."]),
]

FILLER = [
    "This was discussed again later and nobody objected.",
    "Details are in the linked ticket.",
    "Ask in the team channel if something here looks outdated.",
    "Last reviewed during the quarterly documentation pass.",
    "The owner is expected to keep this page current.",
    "Numbers here are approximate and change every month.",
    "See the handbook for the general process.",
    "Questions go to the owner first, then to the team lead.",
]


def slug(name):
    return name.lower().replace("'", "").replace(" ", "-")


def write(path, text):
    target = ROOT / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.strip() + "\n", encoding="utf-8")


def people():
    for name, role, team, city, drink, editor, note in PEOPLE:
        first = name.split()[0]
        lines = [f"# {name}", ""]
        lines.append(pick([
            f"{name} is a {role} on the {team} team, based in {city}.",
            f"{first} works as {role} in {team}. Lives in {city}.",
            f"Role: {role} ({team} team). Location: {city}.",
        ]))
        lines.append(pick([
            f"{first} drinks {drink} and uses {editor}.",
            f"Favourite drink: {drink}. Editor: {editor}.",
            f"Always has {drink} nearby; works in {editor}.",
        ]))
        lines.append(f"{first} {note}.")
        if rng.random() < 0.5:
            lines += ["", pick(FILLER)]
        write(f"people/{slug(name)}.md", "\n".join(lines))


def projects():
    for code, goal, owner, status, stack, deadline, detail in PROJECTS:
        lines = [f"# Project {code}", ""]
        lines.append(f"Goal: {goal}.")
        lines.append(f"Owner: {owner}. Status: {status}. Due: {deadline}.")
        lines.append(f"Stack: {stack}.")
        lines += ["", f"Note: {detail}."]
        for _ in range(rng.randint(0, 3)):
            lines.append(pick(FILLER))
        write(f"projects/{code.lower()}.md", "\n".join(lines))


def hosts():
    for host, role, region, os_name, address, detail in HOSTS:
        lines = [f"# {host}", "", f"{host} is the {role}.", f"Region {region}, {os_name}, address {address}.", f"It {detail}."]
        if rng.random() < 0.4:
            lines.append(pick(FILLER))
        write(f"infra/{host}.md", "\n".join(lines))


def decisions():
    for number, title, body in DECISIONS:
        lines = [f"# ADR {number}: {title}", "", "Status: accepted.", "", body, "", f"Decided by Oliver Grant after review in the architecture meeting."]
        write(f"decisions/adr-{number}.md", "\n".join(lines))


def incidents():
    for ticket, date, title, body, owner in INCIDENTS:
        lines = [f"# {ticket}: {title}", "", f"Date: {date}. Incident lead: {owner}.", "", body, "",
                 "Timeline, impact and follow-ups are in the postmortem document."]
        write(f"incidents/{ticket.lower()}.md", "\n".join(lines))


def runbooks():
    for name, title, steps in RUNBOOKS:
        lines = [f"# Runbook: {title}", ""]
        for n, step in enumerate(steps, 1):
            lines.append(f"{n}. {step}")
            # Long runbooks: every step carries context paragraphs, as real ones do.
            for _ in range(rng.randint(3, 7)):
                lines.append("   " + pick(RUNBOOK_PROSE))
            lines.append("")
        write(f"runbooks/{name}.md", "\n".join(lines))


RUNBOOK_PROSE = [
    "Before doing this, post in the incident channel what you are about to do and why.",
    "If anything looks different from what is described here, stop and ask the owner of the system.",
    "Most of the time this step takes a few minutes; if it takes longer, check the logs of the service.",
    "Keep a terminal log of every command you run so that the postmortem can reconstruct the timeline.",
    "Do not skip this step even when the situation looks obvious; it has caught mistakes before.",
    "The monitoring dashboards may lag by a minute, so wait before drawing conclusions.",
    "Write down the time in UTC when the step finished.",
    "If you are not on the platform team, pair with someone who is before continuing.",
    "Customers may notice errors during this step; the status page should already say so.",
    "Commands are run from the bastion unless the step says otherwise.",
    "When in doubt, prefer the slower and safer option; speed matters less than a correct state.",
    "Announce the end of the step in the channel so others know the state changed.",
    "Permissions for this step are granted through the access tool for four hours at a time.",
    "This part was rewritten after the last game day exercise found it confusing.",
]


def meetings():
    for date, title, attendees, notes in MEETINGS:
        lines = [f"# {title.capitalize()} {date}", "", "Attendees: " + ", ".join(attendees) + ".", ""]
        lines += [f"- {note}" for note in notes]
        write(f"meetings/{date}-{slug(title)}.md", "\n".join(lines))


def preferences():
    for topic, items in PREFERENCES:
        lines = [f"# Preferences: {topic}", ""] + [f"- {item}" for item in items]
        write(f"preferences/{topic}.md", "\n".join(lines))


def daily_logs():
    """Short daily notes that mention the entities above in passing: the haystack."""
    events = (
        [f"Talked to {p[0].split()[0]} about {pick([q[0] for q in PROJECTS])}." for p in PEOPLE]
        + [f"{q[0]} status is still {q[3]}." for q in PROJECTS]
        + [f"Checked {h[0]}; nothing unusual." for h in HOSTS]
        + [f"Reviewed {i[0]} follow-ups." for i in INCIDENTS]
        + ["Cleared the inbox.", "Lunch with the team.", "Long planning session, no decisions.",
           "Wrote the weekly report.", "Quiet day.", "Spent the afternoon on code review.",
           "Updated the on-call handover notes.", "Read the new vendor contract draft."]
    )
    for day in range(1, 96):
        month, mday = 3 + (day - 1) // 30, 1 + (day - 1) % 30
        picked = rng.sample(events, rng.randint(2, 5))
        lines = [f"# Daily log 2026-{month:02d}-{mday:02d}", ""] + [f"- {e}" for e in picked]
        write(f"daily/2026-{month:02d}-{mday:02d}.md", "\n".join(lines))


def main():
    if ROOT.exists():
        shutil.rmtree(ROOT)
    people()
    projects()
    hosts()
    decisions()
    incidents()
    runbooks()
    meetings()
    preferences()
    daily_logs()
    count = sum(1 for _ in ROOT.rglob("*.md"))
    print(f"wrote {count} documents under {ROOT}")


if __name__ == "__main__":
    main()
