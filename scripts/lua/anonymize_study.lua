-- anon-consistent: anonymize one study from a script sent to Orthanc.
--
-- Orthanc 1.10.1 refuses POST /tools/execute-script (HTTP 403) unless the
-- configuration says:
--
--     "ExecuteLuaEnabled": true
--
-- Only enable it on a trusted server: the script runs with Orthanc's rights.
--
-- Usage: put the Orthanc ID of the study (not its StudyInstanceUID) in
-- STUDY_ID below, or substitute it on the fly, then send the script:
--
--     STUDY=0a9b3153-24ba8fa2-5d4f0efd-56ec1fb6-d5a2b8a5
--     sed "s/REPLACE_WITH_ORTHANC_STUDY_ID/$STUDY/" scripts/lua/anonymize_study.lua |
--       curl -sf --data-binary @- http://localhost:8042/tools/execute-script
--
-- The answer is the plugin's JSON answer, printed as is:
--   {"ID": <new study>, "Path": "/studies/<new study>", "Type": "Study",
--    "PatientID": ..., "InstancesCount": ..., "FailedInstancesCount": ...,
--    "FailedInstances": [...], "IsAnonymization": true, "Project": ...}
-- If the call fails (unknown study, bad options, nothing anonymized), the
-- script raises an error, so Orthanc answers with an HTTP error (curl -f
-- exits non-zero) and the reason is in the Orthanc log.

local STUDY_ID = 'REPLACE_WITH_ORTHANC_STUDY_ID'
local PROJECT = 'default'

local body = {
   Project = PROJECT,
   KeepSource = true,
}

local answer = RestApiPost('/anon-consistent/studies/' .. STUDY_ID, DumpJson(body, true))
if answer == nil then
   error('anon-consistent: anonymization of study ' .. STUDY_ID .. ' failed, see the Orthanc log')
end
print(answer)
