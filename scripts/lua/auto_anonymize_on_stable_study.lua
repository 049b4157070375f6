-- anon-consistent: anonymize every study once it is stable.
--
-- Install it with the "LuaScripts" option of orthanc.json (the path is
-- relative to the configuration file):
--
--     "LuaScripts": [ "scripts/lua/auto_anonymize_on_stable_study.lua" ],
--     "StableAge": 60
--
-- Orthanc calls OnStableStudy() when no new instance has arrived in a study
-- for "StableAge" seconds. The study is then anonymized into PROJECT by the
-- plugin's REST route; the source study is kept (see "KeepSource" below).
--
-- Loop guard: the anonymized copy is a new study, so Orthanc reports it as
-- stable in turn. Every instance written by the plugin carries
-- PatientIdentityRemoved (0012,0062) = "YES", so a study whose instances are
-- so marked is skipped. That attribute is not a main DICOM tag of Orthanc,
-- hence it is absent from the "tags" argument and read from an instance.
-- Consequence: a study that arrives already marked as de-identified (by any
-- tool) is left alone too.
--
-- Several Orthanc nodes on one PostgreSQL (see the README, "Several Orthanc
-- nodes"): install the script on every node. A study whose instances reach
-- two nodes is reported stable by each of them, the first time possibly
-- before the other part has arrived. Each run anonymizes what the shared
-- index holds then, into the same project and the same mapping: the later
-- run adds the missing instances to the same anonymized study and leaves the
-- ones already stored untouched; runs on the same study never interleave.
--
-- The call is synchronous: Orthanc runs the Lua callbacks one at a time in a
-- single thread, so later Lua events wait until this study is done. For very
-- large studies set ASYNCHRONOUS = true: the plugin then answers at once with
-- a job, to be followed under /anon-consistent/jobs/<id>.

local PROJECT = 'auto'
local ASYNCHRONOUS = false

-- The request body, as for POST /studies/{id}/anonymize plus the plugin's
-- own options ("Project", "ShiftDates", "Asynchronous").
local function RequestBody()
   return {
      Project = PROJECT,
      KeepSource = true,
      Asynchronous = ASYNCHRONOUS,
   }
end

-- True if one instance of the study says PatientIdentityRemoved = YES.
-- Anonymized outputs never share a study with their source (the plugin
-- gives them a new StudyInstanceUID unless "Keep" or "Replace" pins it, which
-- this script never asks), so one instance is enough.
local function IsDeidentified(studyId)
   local answer = RestApiGet('/studies/' .. studyId .. '/instances')
   if answer == nil then
      return false
   end
   local instances = ParseJson(answer)
   if instances[1] == nil then
      return false
   end
   -- /content/0012-0062 would answer 404 (and log an error) for every study
   -- without the attribute; the simplified tags simply lack it.
   local tags = RestApiGet('/instances/' .. instances[1]['ID'] .. '/simplified-tags')
   if tags == nil then
      return false
   end
   local removed = ParseJson(tags)['PatientIdentityRemoved']
   -- The value may come back with its DICOM space padding: "YES ".
   return removed ~= nil and string.upper(string.gsub(removed, '%s', '')) == 'YES'
end

function OnStableStudy(studyId, tags, metadata)
   if IsDeidentified(studyId) then
      print('anon-consistent: study ' .. studyId .. ' is already de-identified (PatientIdentityRemoved = YES): skipped')
      return
   end

   -- Only Orthanc IDs and the plugin's answer go to the log, never a value
   -- of the source (such as tags['StudyInstanceUID']): the log is not
   -- de-identified.
   print('anon-consistent: anonymizing stable study ' .. studyId .. ' into project ' .. PROJECT)
   local answer = RestApiPost('/anon-consistent/studies/' .. studyId, DumpJson(RequestBody(), true))
   if answer == nil then
      print('anon-consistent: anonymization of study ' .. studyId .. ' FAILED, see the errors above in the log')
      return
   end

   local result = ParseJson(answer)
   if ASYNCHRONOUS then
      print('anon-consistent: study ' .. studyId .. ' queued as job ' .. result['Path'])
   else
      print(string.format('anon-consistent: study %s -> anonymized study %s (%d instances, %d failed)',
                          studyId, tostring(result['ID']), result['InstancesCount'], result['FailedInstancesCount']))
   end
   PrintRecursive(result)
end
