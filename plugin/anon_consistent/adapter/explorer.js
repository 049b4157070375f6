/*
 * anon-consistent: "Anonymize (consistent)" in Orthanc Explorer (1.10.x).
 *
 * Orthanc appends this file to /plugins/explorer.js, which explorer.html loads
 * in its <head> after jQuery 1.7 and jQuery Mobile 1.1. The body does not
 * exist yet, so everything below is bound to `document` (delegated events).
 *
 * One button and one dialog are created lazily and moved into the patient,
 * study or series page that is about to be shown, so their ids stay unique:
 *   #anon-consistent-button     the entry in the page's "Interact" list
 *   #anon-consistent-dialog     the modal form (overlay)
 *   #anon-consistent-project, -keep, -patient-name, -patient-id
 *   #anon-consistent-preset     the presets of GET /anon-consistent ("" = none),
 *                               #anon-consistent-preset-hint what the chosen one does
 *   #anon-consistent-option-<Name>  one check box per PS3.15 option ("Options");
 *                               an option the preset gives is checked and disabled
 *   #anon-consistent-start, #anon-consistent-cancel
 *   #anon-consistent-progress   the progress bar, #anon-consistent-status its text;
 *                               the dialog's data-state is idle|running|error|success
 *
 * The job runs server side (POST /anon-consistent/<level>/<id> with
 * "Asynchronous": true, plus "Preset" and "Options" when chosen); this script polls /anon-consistent/jobs/<id> and then
 * opens the anonymized resource. ES5 only: the Explorer targets old browsers.
 */
(function ($) {
  'use strict';

  if (!$ || !$.mobile) {
    return;
  }

  var API = '../anon-consistent';
  var POLL_MS = 400;
  var LEVELS = {
    patient: { plural: 'patients', label: 'patient' },
    study: { plural: 'studies', label: 'study' },
    series: { plural: 'series', label: 'series' }
  };
  var PAGES = '#patient, #study, #series';
  var DEFAULT_KEEP = 'StudyDescription, SeriesDescription';
  // The options of PS3.15 Table E.1-1, as the "Options" list names them.
  var OPTIONS = [
    ['RetainSafePrivate', 'Retain Safe Private (b-values, scaling...)'],
    ['RetainUIDs', 'Retain UIDs'],
    ['RetainDeviceIdentity', 'Retain Device Identity'],
    ['RetainInstitutionIdentity', 'Retain Institution Identity'],
    ['RetainPatientCharacteristics', 'Retain Patient Characteristics (weight, size, sex, age)'],
    ['RetainLongitudinalFullDates', 'Retain Longitudinal Full Dates'],
    ['RetainLongitudinalModifiedDates', 'Retain Longitudinal Modified Dates (shift dates)'],
    ['CleanDescriptors', 'Clean Descriptors (descriptions, ROI names...)'],
    ['CleanStructuredContent', 'Clean Structured Content'],
    ['CleanGraphics', 'Clean Graphics']
  ];
  // The two date options exclude each other; the body's one replaces the preset's.
  var OTHER_DATES = {
    RetainLongitudinalFullDates: 'RetainLongitudinalModifiedDates',
    RetainLongitudinalModifiedDates: 'RetainLongitudinalFullDates'
  };
  // Booleans a preset may use instead of an entry of its "Options".
  var ALIASES = { ShiftDates: 'RetainLongitudinalModifiedDates', CleanStructuredContent: 'CleanStructuredContent' };

  var item = null;      // <li> holding #anon-consistent-button
  var dialog = null;    // #anon-consistent-dialog
  var run = null;       // the anonymization in progress: {token, level, uuid, job, stop, percent}
  var nextToken = 1;
  var presets = null;   // name -> content, from GET /anon-consistent (null until loaded)
  var chosen = {};      // option name -> true: the check boxes the user ticked

  var CSS = [
    '#anon-consistent-dialog { position: fixed; top: 0; right: 0; bottom: 0; left: 0;',
    '  z-index: 1100; background: rgba(0, 0, 0, 0.45); overflow: auto; }',
    '#anon-consistent-dialog .anon-consistent-box { max-width: 460px; margin: 60px auto 20px;',
    '  padding: 0.5em 1.2em 1em; background: #fff; border-radius: 8px;',
    '  box-shadow: 0 4px 24px rgba(0, 0, 0, 0.5); text-align: left; }',
    '#anon-consistent-dialog h3 { margin: 0.6em 0; }',
    '#anon-consistent-dialog label { display: block; margin-top: 0.6em; font-size: 0.9em; }',
    '#anon-consistent-dialog .anon-consistent-hint { margin: 0.2em 0 0; font-size: 0.8em; color: #666; }',
    '#anon-consistent-preset-hint { white-space: pre-wrap; }',
    '#anon-consistent-dialog fieldset { margin-top: 0.6em; }',
    '#anon-consistent-dialog fieldset .ui-controlgroup-controls label { margin-top: 0; }',
    '#anon-consistent-progress { position: relative; height: 1.4em; margin-top: 1em;',
    '  background: #ddd; border-radius: 4px; overflow: hidden; }',
    '#anon-consistent-progress .anon-consistent-bar { position: absolute; top: 0; left: 0;',
    '  height: 100%; width: 0; background: #3a8f3a; }',
    '#anon-consistent-status { min-height: 1.3em; margin: 0.8em 0 0.4em; white-space: pre-wrap;',
    '  word-wrap: break-word; }',
    '#anon-consistent-status.anon-consistent-error { color: #b00020; font-weight: bold; }',
    '#anon-consistent-dialog .anon-consistent-actions { margin-top: 0.6em; text-align: right; }'
  ].join('\n');

  function currentLevel() {
    var id = $.mobile.activePage ? $.mobile.activePage.attr('id') : '';
    return LEVELS.hasOwnProperty(id) ? id : null;
  }

  function currentUuid() {
    var match;
    if ($.mobile.pageData && $.mobile.pageData.uuid) {
      return String($.mobile.pageData.uuid);
    }
    match = /[?&]uuid=([^&]+)/.exec(window.location.hash);
    return match ? decodeURIComponent(match[1]) : null;
  }

  function field(id, label, hint) {
    var box = $('<div>').addClass('anon-consistent-field');
    box.append($('<label>').attr('for', id).text(label));
    box.append($('<input>').attr({ type: 'text', id: id, autocomplete: 'off' })
      .attr('data-mini', 'true'));
    if (hint) {
      box.append($('<p>').addClass('anon-consistent-hint').text(hint));
    }
    return box;
  }

  function presetField() {
    return $('<div>').addClass('anon-consistent-field')
      .append($('<label>').attr('for', 'anon-consistent-preset').text('Preset'))
      .append($('<select>').attr({ id: 'anon-consistent-preset', 'data-mini': 'true' })
        .append($('<option>').attr('value', '').text('None')))
      .append($('<p>').attr('id', 'anon-consistent-preset-hint').addClass('anon-consistent-hint')
        .text('A preset configured in orthanc.json; the choices below are added to it.'));
  }

  function optionsField() {
    var group = $('<fieldset>').attr({ id: 'anon-consistent-options', 'data-role': 'controlgroup',
      'data-mini': 'true' }).append($('<legend>').text('PS3.15 options'));
    $.each(OPTIONS, function (index, option) {
      var id = 'anon-consistent-option-' + option[0];
      group.append($('<input>').attr({ type: 'checkbox', id: id, 'data-option': option[0] }))
        .append($('<label>').attr('for', id).text(option[1]));
    });
    return group;
  }

  function button(id, text, icon, theme) {
    return $('<a>').attr({ href: '#', id: id, 'data-role': 'button', 'data-inline': 'true',
      'data-mini': 'true', 'data-icon': icon, 'data-theme': theme }).text(text);
  }

  function build() {
    var box;
    $('<style>').attr('type', 'text/css').text(CSS).appendTo('head');

    item = $('<li>').attr('data-icon', 'star').append(
      $('<a>').attr({ href: '#', id: 'anon-consistent-button' }).text('Anonymize (consistent)'));

    box = $('<div>').addClass('anon-consistent-box')
      .append($('<h3>').attr('id', 'anon-consistent-title'))
      .append(field('anon-consistent-project', 'Project',
        'Same project = same pseudonyms and UIDs as earlier runs.'))
      .append(presetField())
      .append(field('anon-consistent-keep', 'Tags to keep',
        'Comma-separated DICOM keywords, e.g. StudyDescription, SeriesDescription'))
      .append(field('anon-consistent-patient-name', 'New PatientName (optional)'))
      .append(field('anon-consistent-patient-id', 'New PatientID (optional)'))
      .append(optionsField())
      .append($('<div>').attr('id', 'anon-consistent-progress').hide()
        .append($('<div>').addClass('anon-consistent-bar')))
      .append($('<p>').attr({ id: 'anon-consistent-status', role: 'status', 'aria-live': 'polite' }))
      .append($('<div>').addClass('anon-consistent-actions')
        .append(button('anon-consistent-cancel', 'Cancel', 'delete', 'c'))
        .append(button('anon-consistent-start', 'Anonymize', 'check', 'b')));

    dialog = $('<div>').attr({ id: 'anon-consistent-dialog', role: 'dialog',
      'aria-modal': 'true', 'aria-labelledby': 'anon-consistent-title', 'data-state': 'idle' })
      .append(box).hide();
    $('#anon-consistent-project', dialog).val('default');
    $('#anon-consistent-keep', dialog).val(DEFAULT_KEEP);
  }

  function refreshList(list) {
    try {
      list.listview('refresh');
    } catch (ignored) {
      // Not enhanced yet: jQuery Mobile will enhance it when the page is created.
    }
  }

  // Move the button and the dialog into the page about to be shown.
  function attach(page) {
    var interact = $('#' + page.attr('id') + '-anonymize', page).closest('ul');
    var previous;
    if (!interact.length) {
      return;
    }
    if (!item) {
      build();
    }
    previous = item.parent();
    if (previous[0] !== interact[0]) {
      item.detach();
      if (previous.length) {
        refreshList(previous);
      }
      item.insertAfter($('#' + page.attr('id') + '-anonymize', page).closest('li'));
      refreshList(interact);
    }
    if (dialog.parent()[0] !== page[0]) {
      dialog.detach().appendTo(page);
      if (!dialog.data('anon-consistent-enhanced')) {
        dialog.data('anon-consistent-enhanced', true);
        dialog.trigger('create');
      }
    }
  }

  function setButtonText(target, text) {
    var inner = $('.ui-btn-text', target);
    (inner.length ? inner : target).text(text);
  }

  function setEnabled(target, enabled) {
    target.toggleClass('ui-disabled', !enabled).attr('aria-disabled', enabled ? null : 'true');
  }

  function setInputsEnabled(enabled) {
    var texts = $('input[type="text"]', dialog);
    var select = $('#anon-consistent-preset', dialog);
    texts.prop('disabled', !enabled);
    select.prop('disabled', !enabled);
    try {
      texts.textinput(enabled ? 'enable' : 'disable');
      select.selectmenu(enabled ? 'enable' : 'disable');
    } catch (ignored) {
      // Not enhanced yet: the "disabled" properties above are enough.
    }
    showOptions(enabled);
  }

  function selectedPreset() {
    var name = $('#anon-consistent-preset', dialog).val();
    return name && presets && presets.hasOwnProperty(name) ? presets[name] : null;
  }

  // The options a preset gives: its "Options" and its boolean aliases.
  function presetOptions(preset) {
    var given = {};
    if (preset && $.isArray(preset.Options)) {
      $.each(preset.Options, function (index, name) { given[name] = true; });
    }
    $.each(ALIASES, function (alias, name) {
      if (preset && preset[alias] === true) {
        given[name] = true;
      }
    });
    return given;
  }

  // What the server will apply: the preset's options (but a date option the
  // user ticked replaces the preset's other one) plus the ticked ones.
  function effectiveFromPreset(name, given) {
    return given[name] === true && !chosen[OTHER_DATES[name]];
  }

  function showOptions(enabled) {
    var given = presetOptions(selectedPreset());
    $.each(OPTIONS, function (index, option) {
      var name = option[0];
      var box = $('#anon-consistent-option-' + name, dialog);
      var fromPreset = effectiveFromPreset(name, given);
      box.prop('checked', fromPreset || chosen[name] === true)
        .prop('disabled', !enabled || fromPreset)
        .attr('data-from-preset', fromPreset ? 'true' : null);
      try {
        box.checkboxradio('refresh');
      } catch (ignored) {
        // Not enhanced yet: jQuery Mobile reads the properties when it enhances it.
      }
    });
  }

  function describePreset(name) {
    var preset = presets && presets[name];
    var parts = [];
    if (!preset) {
      return 'A preset configured in orthanc.json; the choices below are added to it.';
    }
    $.each(preset, function (key, value) {
      if (key === 'Description') {
        return;
      }
      if ($.isArray(value)) {
        value = value.join(', ');
      } else if (value && typeof value === 'object') {
        value = $.map(value, function (v, k) { return k; }).join(', ');
      }
      parts.push(key + ': ' + value);
    });
    return (preset.Description ? preset.Description + '\n' : '') + parts.join('; ');
  }

  function loadPresets() {
    if (presets) {
      return;
    }
    $.ajax({
      url: API,
      dataType: 'json',
      cache: false,
      success: function (answer) {
        var select = $('#anon-consistent-preset', dialog);
        if (presets) {
          return;
        }
        presets = (answer && answer.Presets) || {};
        $.each(presets, function (name) {
          select.append($('<option>').attr('value', name).text(name));
        });
        try {
          select.selectmenu('refresh', true);
        } catch (ignored) {
          // Not enhanced yet.
        }
      },
      error: function (xhr) {
        $('#anon-consistent-preset-hint', dialog).text(describeError(xhr, 'Cannot list the presets'));
      }
    });
  }

  function showStatus(state, text, percent) {
    var status = $('#anon-consistent-status', dialog);
    dialog.attr('data-state', state);
    status.text(text || '').toggleClass('anon-consistent-error', state === 'error');
    if (typeof percent === 'number') {
      if (run) {
        run.percent = percent;
      }
      $('#anon-consistent-progress', dialog).show();
      $('#anon-consistent-progress .anon-consistent-bar', dialog)
        .css('width', Math.max(0, Math.min(100, percent)) + '%');
    } else {
      $('#anon-consistent-progress', dialog).hide();
    }
    setInputsEnabled(state !== 'running');
    setEnabled($('#anon-consistent-start', dialog), state !== 'running' && state !== 'success');
    setButtonText($('#anon-consistent-cancel', dialog),
      state === 'running' ? 'Stop' : (state === 'idle' ? 'Cancel' : 'Close'));
  }

  function openDialog() {
    var level = currentLevel();
    if (!level || !currentUuid()) {
      return;
    }
    attach($.mobile.activePage);
    $('#anon-consistent-title', dialog).text('Anonymize this ' + LEVELS[level].label + ' (consistent)');
    if (!run) {
      showStatus('idle', '');
    }
    loadPresets();
    dialog.show();
    $('#anon-consistent-project', dialog).focus();
  }

  function closeDialog() {
    if (dialog) {
      dialog.hide();
    }
  }

  // Orthanc and the plugin answer errors as {"HttpStatus", "Message", "Details"...}.
  function describeError(xhr, fallback) {
    var body = null;
    var text;
    try {
      body = JSON.parse(xhr.responseText);
    } catch (ignored) {
      body = null;
    }
    if (!xhr.status) {
      return fallback + ': Orthanc cannot be reached';
    }
    text = fallback + ' (HTTP ' + xhr.status + (xhr.statusText ? ' ' + xhr.statusText : '') + ')';
    if (body && typeof body === 'object') {
      if (body.Message) {
        text += ': ' + body.Message;
      }
      if (body.Details && typeof body.Details === 'string') {
        text += '\n' + body.Details;
      }
    } else if (xhr.responseText && xhr.responseText.length < 500) {
      text += ': ' + xhr.responseText;
    }
    return text;
  }

  function splitKeywords(text) {
    // Keywords, or tags written 0010,0010 / (0010,0010) / 00100010.
    return String(text || '').match(/\(?[0-9A-Fa-f]{4}\s*,\s*[0-9A-Fa-f]{4}\)?|[^,;\s]+/g) || [];
  }

  function readForm() {
    var body = {
      Project: $.trim($('#anon-consistent-project', dialog).val()),
      Keep: splitKeywords($('#anon-consistent-keep', dialog).val()),
      Asynchronous: true
    };
    var name = $.trim($('#anon-consistent-patient-name', dialog).val());
    var id = $.trim($('#anon-consistent-patient-id', dialog).val());
    var preset = $('#anon-consistent-preset', dialog).val();
    var options = [];
    // Only the ticked ones: the server adds the preset's own.
    $.each(OPTIONS, function (index, option) {
      if (chosen[option[0]]) {
        options.push(option[0]);
      }
    });
    if (preset) {
      body.Preset = preset;
    }
    if (options.length) {
      body.Options = options;
    }
    if (name || id) {
      body.Replace = {};
      if (name) {
        body.Replace.PatientName = name;
      }
      if (id) {
        body.Replace.PatientID = id;
      }
    }
    return body;
  }

  function finish(token, state, message) {
    if (run && run.token === token) {
      run = null;
      showStatus(state, message);
    }
  }

  function openResult(content) {
    var page = String(content.Type || '').toLowerCase();
    if (!LEVELS.hasOwnProperty(page)) {
      page = run ? run.level : 'study';
    }
    run = null;
    closeDialog();
    showStatus('idle', '');
    // As the Explorer's own "Anonymize": a hash change, which also refreshes
    // the page when the new resource is shown by the same page (#study -> #study).
    window.location.assign('explorer.html#' + page + '?uuid=' + encodeURIComponent(content.ID));
  }

  function poll(token) {
    if (!run || run.token !== token) {
      return;
    }
    $.ajax({
      url: API + '/jobs/' + encodeURIComponent(run.job),
      dataType: 'json',
      cache: false,
      success: function (job) {
        var content = (job && job.Content) || {};
        var failed = content.FailedInstancesCount || 0;
        var text;
        if (!run || run.token !== token) {
          return;
        }
        if (job.State === 'Success') {
          if (!content.ID) {
            finish(token, 'error', 'The job succeeded but did not report the new resource.');
          } else if (failed > 0) {
            // Do not hide a partial result behind a page change.
            finish(token, 'success', failed + ' instance(s) could not be anonymized; ' +
              (content.InstancesCount || 0) + ' were. Open the result from the link below.');
            $('#anon-consistent-status', dialog).append(' ').append(
              $('<a>').attr({ id: 'anon-consistent-result', href: 'explorer.html#' +
                String(content.Type || '').toLowerCase() + '?uuid=' + encodeURIComponent(content.ID) })
                .text('Open the anonymized ' + String(content.Type || 'resource').toLowerCase()));
          } else {
            showStatus('running', 'Done, opening the anonymized ' +
              String(content.Type || 'resource').toLowerCase() + '...', 100);
            openResult(content);
          }
        } else if (job.State === 'Failure') {
          finish(token, 'error', 'Anonymization failed: ' + (job.ErrorDescription || 'unknown error') +
            (failed ? ' (' + failed + ' instance(s) failed)' : ''));
        } else if (job.State === 'Cancelled') {
          finish(token, 'error', 'Anonymization cancelled' +
            (job.ErrorDescription ? ': ' + job.ErrorDescription : '.'));
        } else {
          if (run.stop) {
            text = 'Stopping';
          } else {
            text = job.State === 'Pending' ? 'Waiting for a worker' : 'Anonymizing';
          }
          showStatus('running', text + '... ' + (job.Progress || 0) + ' %', job.Progress || 0);
          window.setTimeout(function () { poll(token); }, POLL_MS);
        }
      },
      error: function (xhr) {
        finish(token, 'error', describeError(xhr, 'Cannot follow the anonymization job'));
      }
    });
  }

  function start() {
    var level = currentLevel();
    var uuid = currentUuid();
    var token;
    if (run || !level || !uuid) {
      return;
    }
    token = nextToken;
    nextToken += 1;
    run = { token: token, level: level, uuid: uuid, job: null, stop: false, percent: 0 };
    showStatus('running', 'Starting...', 0);
    $.ajax({
      url: API + '/' + LEVELS[level].plural + '/' + encodeURIComponent(uuid),
      type: 'POST',
      data: JSON.stringify(readForm()),
      contentType: 'application/json',
      dataType: 'json',
      cache: false,
      success: function (answer) {
        if (!run || run.token !== token) {
          return;
        }
        if (!answer || !answer.ID) {
          finish(token, 'error', 'Orthanc did not return a job identifier.');
          return;
        }
        run.job = answer.ID;
        if (run.stop) {
          cancelJob();
        }
        poll(token);
      },
      error: function (xhr) {
        finish(token, 'error', describeError(xhr, 'Anonymization refused'));
      }
    });
  }

  function cancelJob() {
    $.ajax({ url: API + '/jobs/' + encodeURIComponent(run.job) + '/cancel', type: 'POST',
      dataType: 'json', cache: false });
    // The poll loop reports "Cancelled" (or the result if the job was already done).
  }

  function stopOrClose() {
    if (!run) {
      closeDialog();
      return;
    }
    run.stop = true;
    showStatus('running', 'Stopping...', run.percent);
    if (run.job) {
      cancelJob();
    }
  }

  // Native Explorer shows "Before anonymization" from the system metadata
  // AnonymizedFrom, which no plugin can write: this link reads ours.
  function shownUuid() {
    // On a #study -> #study hash change the page's data can still be the previous one's.
    var match = /[?&]uuid=([^&]+)/.exec(window.location.hash);
    return match ? decodeURIComponent(match[1]) : currentUuid();
  }

  function showProvenance(page) {
    var level = page.attr('id');
    var uuid = shownUuid();
    var list = $('#' + level + '-anonymize', page).closest('ul');
    $('.anon-consistent-provenance', page).remove();
    if (!uuid || !list.length) {
      return;
    }
    $.ajax({
      url: API + '/' + LEVELS[level].plural + '/' + encodeURIComponent(uuid) + '/provenance',
      dataType: 'json',
      success: function (answer) {
        var link;
        if (!answer.AnonymizedFrom || !answer.SourceExists || shownUuid() !== uuid) {
          return;
        }
        link = $('<a>').attr({ href: '#' + level + '?uuid=' + encodeURIComponent(answer.AnonymizedFrom),
          id: 'anon-consistent-provenance-link' }).text('Before anonymization (anon-consistent)');
        $('.anon-consistent-provenance', page).remove();  // the hash change and the page event both ask
        $('<li>').addClass('anon-consistent-provenance').attr('data-icon', 'back').append(link).appendTo(list);
        refreshList(list);
      }
    });
  }

  $(window).on('hashchange', function () {
    var page = $.mobile.activePage;
    if (page && LEVELS.hasOwnProperty(page.attr('id'))) {
      showProvenance(page);
    }
  });

  $(document).on('pagebeforeshow', PAGES, function () {
    showProvenance($(this));
    attach($(this));
    if (!run) {
      closeDialog();
    }
  });

  $(document).on('click', '#anon-consistent-button', function (event) {
    event.preventDefault();
    openDialog();
  });

  function startIfEnabled() {
    if (!$('#anon-consistent-start', dialog).hasClass('ui-disabled')) {
      start();
    }
  }

  $(document).on('change', '#anon-consistent-preset', function () {
    $('#anon-consistent-preset-hint', dialog).text(describePreset($(this).val()));
    showOptions(!run);
  });

  $(document).on('change', '#anon-consistent-options input[type="checkbox"]', function () {
    var name = $(this).attr('data-option');
    chosen[name] = $(this).is(':checked');
    if (chosen[name] && OTHER_DATES[name]) {
      chosen[OTHER_DATES[name]] = false;  // the two date options exclude each other
    }
    showOptions(!run);
  });

  $(document).on('click', '#anon-consistent-start', function (event) {
    event.preventDefault();
    startIfEnabled();
  });

  $(document).on('click', '#anon-consistent-cancel', function (event) {
    event.preventDefault();
    stopOrClose();
  });

  $(document).on('keydown', '#anon-consistent-dialog', function (event) {
    if (event.which === 13 && $(event.target).is('input[type="text"]')) {
      event.preventDefault();
      startIfEnabled();
    } else if (event.which === 27 && !run) {
      closeDialog();
    }
  });
}(window.jQuery));
