# A month of nights against the GitHub stand-in (tests/e2e/lib/month.bash says what it shows;
# DOCKERBUMP_MONTH_NIGHTS sets how many).
FORGE=github
. "$(dirname "$0")/lib/month.bash"
echo "run_month: ok"
