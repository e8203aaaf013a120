"""PFMON stack: the four components built once from the validated stack settings.

Order matters because of two cycles. The Cognito pool needs the post-confirmation
function, and the HTTP API's JWT authorizer needs the pool. The site's config.json
needs the API URL, and the API's CORS rule needs the site's origin. So ApiFunctions
builds its functions first and serves the HTTP API once the pool and the site exist,
and StaticSite publishes config.json last.
"""

import sys
from pathlib import Path

# The Lambda sources are one package that the program reads for its table schemas
# and route table; `functions/` never imports `components/`.
sys.path.insert(0, str(Path(__file__).resolve().parent / "functions"))

import pulumi

from components.api_functions import ApiFunctions, ApiFunctionsArgs
from components.auth_pool import AuthPool, AuthPoolArgs
from components.data_tables import DataTables, DataTablesArgs
from components.deploy_access import DeployAccess, DeployAccessArgs
from components.settings import load_settings, tier_rows
from components.static_site import StaticSite, StaticSiteArgs

settings = load_settings()

tables = DataTables("data", DataTablesArgs(settings=settings))
api = ApiFunctions("api", ApiFunctionsArgs(settings=settings, tables=tables))
auth = AuthPool(
    "auth", AuthPoolArgs(settings=settings, post_confirmation=api.post_confirmation)
)
site = StaticSite("site", StaticSiteArgs(settings=settings))
ci = DeployAccess("ci", DeployAccessArgs(settings=settings))

api.serve_http_api(auth=auth, allowed_origins=site.allowed_origins)
site.publish_config(
    api_url=api.api_url, user_pool_id=auth.user_pool_id, client_id=auth.client_id
)

stack_outputs: dict[str, object] = {
    "apiUrl": api.api_url,
    "siteUrl": site.site_url,
    "region": settings.region,
    "userPoolId": auth.user_pool_id,
    "userPoolClientId": auth.client_id,
    "tableNames": tables.table_names,
    "tier": {"environment": settings.environment, **tier_rows(settings.tier)},
}
# The workflows read these ARNs from repository variables.
if ci.deploy_role_arn is not None and ci.preview_role_arn is not None:
    stack_outputs["deployRoleArn"] = ci.deploy_role_arn
    stack_outputs["previewRoleArn"] = ci.preview_role_arn
for key, value in stack_outputs.items():
    pulumi.export(key, value)
