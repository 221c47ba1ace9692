# A month of nights against the GitLab stand-in: merge requests, notes and the dashboard
# issue through the REST API v4 (tests/e2e/lib/month.bash says what it shows;
# DOCKERBUMP_MONTH_NIGHTS sets how many).
FORGE=gitlab
. "$(dirname "$0")/lib/month.bash"
echo "run_month_gitlab: ok"
