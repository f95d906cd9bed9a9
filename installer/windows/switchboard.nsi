; Switchboard's Windows installer: the server as a Windows service that starts at boot,
; its data in %ProgramData%\Switchboard (for SYSTEM and Administrators alone: it holds
; the extensions' password hashes and the TLS key), firewall rules for SIP, RTP and the
; admin panel, Start-menu entries, and an uninstaller that keeps the office unless
; asked (/PURGE). Built by installer/windows/build-installer with makensis:
;   makensis -DVERSION=0.1.0 -DSERVER_EXE=path\to\switchboard-server.exe -DOUT=Setup.exe

; A 64-bit installer: Switchboard itself is a 64-bit program (and Wine runs it without its
; 32-bit half).
Target amd64-unicode
!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"

!ifndef VERSION
  !error "VERSION is not defined"
!endif
!ifndef SERVER_EXE
  !error "SERVER_EXE is not defined"
!endif
!ifndef OUT
  !define OUT "Switchboard-Setup-${VERSION}.exe"
!endif

!define SERVICE "Switchboard"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Switchboard"
!define PANEL "https://localhost:8443/"

Name "Switchboard ${VERSION}"
OutFile "${OUT}"
InstallDir "$PROGRAMFILES64\Switchboard"
RequestExecutionLevel admin
ShowInstDetails show
ShowUninstDetails show

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_TEXT "Switchboard runs as a Windows service. Open the admin panel at ${PANEL} (the browser asks once to trust Switchboard's own certificate); the Start menu's 'First-run passwords' (run as administrator) shows the phones' and the admin's passwords."
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  SetShellVarContext all
  SetRegView 64
FunctionEnd

Function un.onInit
  SetShellVarContext all
  SetRegView 64
FunctionEnd

; Pushes 1 while the service runs, starts or stops, else 0. It reads sc.exe's words, not
; its exit code (which Wine does not pass on faithfully).
!macro DefineServiceBusy un
  Function ${un}ServiceBusy
    nsExec::ExecToStack 'sc.exe query ${SERVICE}'
    Pop $1
    Pop $2
    StrLen $4 $2
    StrCpy $3 0
    ${Do}
      ${If} $3 >= $4
        Push 0
        Return
      ${EndIf}
      StrCpy $5 $2 7 $3
      ${If} $5 == "RUNNING"
      ${OrIf} $5 == "PENDING"
        Push 1
        Return
      ${EndIf}
      IntOp $3 $3 + 1
    ${Loop}
  FunctionEnd
!macroend
!insertmacro DefineServiceBusy ""
!insertmacro DefineServiceBusy "un."

; Stops the service and waits (up to 20 s) until it has: its program and database are
; in use until then.
!macro StopService un
  nsExec::ExecToLog 'sc.exe stop ${SERVICE}'
  StrCpy $0 0
  ${Do}
    Call ${un}ServiceBusy
    Pop $1
    ${If} $1 == 0
      ${Break}
    ${EndIf}
    Sleep 500
    IntOp $0 $0 + 1
  ${LoopUntil} $0 >= 40
!macroend

!macro Firewall verb
  nsExec::ExecToLog 'netsh advfirewall firewall ${verb} rule name="Switchboard SIP (UDP)" dir=in action=allow protocol=UDP localport=5060'
  nsExec::ExecToLog 'netsh advfirewall firewall ${verb} rule name="Switchboard SIP (TCP, TLS)" dir=in action=allow protocol=TCP localport=5060-5061'
  nsExec::ExecToLog 'netsh advfirewall firewall ${verb} rule name="Switchboard call audio (RTP)" dir=in action=allow protocol=UDP localport=10000-20000'
  nsExec::ExecToLog 'netsh advfirewall firewall ${verb} rule name="Switchboard admin panel (HTTPS)" dir=in action=allow protocol=TCP localport=8443'
!macroend

Section "Switchboard"
  ; An upgrade replaces the program while the service is stopped; the data stays.
  !insertmacro StopService ""
  SetOutPath "$INSTDIR"
  File "/oname=switchboard-server.exe" "${SERVER_EXE}"
  WriteUninstaller "$INSTDIR\Uninstall.exe"

  CreateDirectory "$APPDATA\Switchboard"
  nsExec::ExecToLog 'icacls "$APPDATA\Switchboard" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F'

  nsExec::ExecToLog 'sc.exe create ${SERVICE} binPath= "\"$INSTDIR\switchboard-server.exe\" --data-dir \"$APPDATA\Switchboard\" --https-listen 0.0.0.0:8443 service" start= auto DisplayName= "Switchboard PBX"'
  nsExec::ExecToLog 'sc.exe description ${SERVICE} "Switchboard office PBX: phones register here, calls, queues, menus and voicemail."'
  nsExec::ExecToLog 'sc.exe failure ${SERVICE} reset= 86400 actions= restart/5000/restart/5000/restart/60000'
  !insertmacro Firewall "add"
  nsExec::ExecToLog 'sc.exe start ${SERVICE}'

  CreateDirectory "$SMPROGRAMS\Switchboard"
  WriteINIStr "$SMPROGRAMS\Switchboard\Switchboard admin panel.url" "InternetShortcut" "URL" "${PANEL}"
  CreateShortcut "$SMPROGRAMS\Switchboard\First-run passwords.lnk" "$SYSDIR\cmd.exe" '/k ""$INSTDIR\switchboard-server.exe" --data-dir "$APPDATA\Switchboard" first-run-info"'
  CreateShortcut "$SMPROGRAMS\Switchboard\Uninstall Switchboard.lnk" "$INSTDIR\Uninstall.exe"

  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "Switchboard"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "Switchboard"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\Uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\Uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  !insertmacro StopService "un."
  nsExec::ExecToLog 'sc.exe delete ${SERVICE}'
  !insertmacro Firewall "delete"
  Delete "$SMPROGRAMS\Switchboard\*.*"
  RMDir "$SMPROGRAMS\Switchboard"
  Delete "$INSTDIR\switchboard-server.exe"
  Delete "$INSTDIR\Uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
  ; The office (database, voicemail, prompts) stays unless /PURGE is given.
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    RMDir /r "$APPDATA\Switchboard"
  ${EndIf}
SectionEnd
