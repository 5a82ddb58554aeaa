"""Extended Validation: does the leaf carry an EV policy OID that its verified root is approved to vouch for?

The rule is Mozilla's (PSM ``CertIsAuthoritativeForEVPolicy``): a root is EV-enabled for the policy OIDs listed
with its SHA-256 fingerprint below, and every EV-enabled root may also use the CA/Browser Forum EV OID
2.23.140.1.1. An OID in a certificate under any other root means nothing, which stops a CA from claiming another
CA's EV policy. The data (facts, not code) is the root fingerprint / policy OID list of Firefox's
security/certverifier/ExtendedValidation.cpp (kEVInfos, 2025), which Chromium's EV list largely matches; every
fingerprint but FIRMAPROFESIONAL CA ROOT-A WEB's was checked against a real root (certifi 2026.05 or Debian's
2023 ca-certificates bundle).

Simplifications, on purpose: only the leaf's CertificatePolicies are read (browsers also require the policy, or
anyPolicy, on each intermediate), and the root must be trusted by the Mozilla store (the caller says so).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, final

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes

__all__ = [
    "CA_BROWSER_FORUM_EV_OID",
    "EV_POLICY_OIDS",
    "EV_ROOTS",
    "EVRoot",
    "EVStatus",
    "ev_status",
]

CA_BROWSER_FORUM_EV_OID: Final = "2.23.140.1.1"
"""The CA/Browser Forum's EV policy OID, usable under every EV-enabled root."""


@final
@attrs.frozen(kw_only=True)
class EVRoot:
    """A root certificate enabled for one EV policy OID."""

    name: str
    """The root's name, for people."""
    sha256_fingerprint: bytes
    """SHA-256 of the root certificate's DER."""
    policy_oid: str
    """The EV policy OID (dotted) the root may vouch for."""


@final
@attrs.frozen(kw_only=True)
class EVStatus:
    """Whether the leaf is an EV certificate."""

    is_ev: bool
    """True when the leaf asserts an EV policy OID its trusted root is enabled for."""
    matched_oid: str | None
    """The EV policy OID that made it EV."""
    ev_policy_oids: tuple[str, ...]
    """The leaf's policy OIDs that are EV OIDs of some root (whether or not this root allows them)."""
    reason: str
    """Why it is, or is not, EV."""


def _root(name: str, fingerprint_hex: str, policy_oid: str) -> EVRoot:
    return EVRoot(name=name, sha256_fingerprint=bytes.fromhex(fingerprint_hex), policy_oid=policy_oid)


_CABF = CA_BROWSER_FORUM_EV_OID

# Root name, SHA-256 fingerprint, EV policy OID: from Firefox's ExtendedValidation.cpp (kEVInfos, 2025).
EV_ROOTS: Final[tuple[EVRoot, ...]] = (
    _root(
        "SwissSign Gold CA - G2",
        "62DD0BE9B9F50A163EA0F8E75C053B1ECA57EA55C8688F647C6881F2C8357B95",
        "2.16.756.1.89.1.2.1.1",
    ),
    _root(
        "SecureTrust CA",
        "F1C1B50AE5A20DD8030EC9F6BC24823DD367B5255759B4E71B61FCE9F7375D73",
        "2.16.840.1.114404.1.1.2.4.1",
    ),
    _root(
        "Secure Global CA",
        "4200F5043AC8590EBB527D209ED1503029FBCBD41CA1B506EC27F15ADE7DAC69",
        "2.16.840.1.114404.1.1.2.4.1",
    ),
    _root(
        "COMODO ECC Certification Authority",
        "1793927A0614549789ADCE2F8F34F7F0B66D0F3AE3A3B84D21EC15DBBA4FADC7",
        "1.3.6.1.4.1.6449.1.2.1.5.1",
    ),
    _root(
        "COMODO Certification Authority",
        "0C2CD63DF7806FA399EDE809116B575BF87989F06518F9808C860503178BAF66",
        "1.3.6.1.4.1.6449.1.2.1.5.1",
    ),
    _root(
        "Go Daddy Root Certificate Authority - G2",
        "45140B3247EB9CC8C5B4F0D7B53091F73292089E6E5A63E2749DD3ACA9198EDA",
        "2.16.840.1.114413.1.7.23.3",
    ),
    _root(
        "Starfield Root Certificate Authority - G2",
        "2CE1CB0BF9D2F9E102993FBE215152C3B2DD0CABDE1C68E5319B839154DBB7F5",
        "2.16.840.1.114414.1.7.23.3",
    ),
    _root(
        "DigiCert High Assurance EV Root CA",
        "7431E5F4C3C1CE4690774F0B61E05440883BA9A01ED00BA6ABD7806ED3B118CF",
        "2.16.840.1.114412.2.1",
    ),
    _root(
        "QuoVadis Root CA 2",
        "85A0DD7DD720ADB7FF05F83D542B209DC7FF4528F7D677B18389FEA5E5C49E86",
        "1.3.6.1.4.1.8024.0.2.100.1.2",
    ),
    _root(
        "Entrust Root Certification Authority",
        "73C176434F1BC6D5ADF45B0E76E727287C8DE57616C1E6E6141A2B2CBC7D8E4C",
        "2.16.840.1.114028.10.1.2",
    ),
    _root(
        "Entrust Root Certification Authority - G4",
        "DB3517D1F6732A2D5AB97C533EC70779EE3270A62FB4AC4238372460E6F01E88",
        "2.16.840.1.114028.10.1.2",
    ),
    _root(
        "GlobalSign Root CA - R3",
        "CBB522D7B7F127AD6A0113865BDF1CD4102E7D0759AF635A7CF4720DC963C53B",
        _CABF,
    ),
    _root(
        "Buypass Class 3 Root CA",
        "EDF7EBBCA27A2A384D387B7D4010C666E2EDB4843E4C29B4AE1D5B9332E6B24D",
        "2.16.578.1.26.1.3.3",
    ),
    _root(
        "AffirmTrust Commercial",
        "0376AB1D54C5F9803CE4B2E201A0EE7EEF7B57B636E8A93C9B8D4860C96F5FA7",
        "1.3.6.1.4.1.34697.2.1",
    ),
    _root(
        "AffirmTrust Networking",
        "0A81EC5A929777F145904AF38D5D509F66B5E2C58FCDB531058B0E17F3F0B41B",
        "1.3.6.1.4.1.34697.2.2",
    ),
    _root(
        "AffirmTrust Premium",
        "70A73F7F376B60074248904534B11482D5BF0E698ECC498DF52577EBF2E93B9A",
        "1.3.6.1.4.1.34697.2.3",
    ),
    _root(
        "AffirmTrust Premium ECC",
        "BD71FDF6DA97E4CF62D1647ADD2581B07D79ADF8397EB4ECBA9C5E8488821423",
        "1.3.6.1.4.1.34697.2.4",
    ),
    _root(
        "Certum Trusted Network CA",
        "5C58468D55F58E497E743982D2B50010B6D165374ACF83A7D4A32DB768C4408E",
        "1.2.616.1.113527.2.5.1.1",
    ),
    _root(
        "Certum Trusted Network CA 2",
        "B676F2EDDAE8775CD36CB0F63CD1D4603961F49E6265BA013A2F0307B6D0B804",
        "1.2.616.1.113527.2.5.1.1",
    ),
    _root(
        "Izenpe.com",
        "2530CC8E98321502BAD96F9B1FBA1B099E2D299E0F4548BB914F363BC0D4531F",
        "1.3.6.1.4.1.14777.6.1.1",
    ),
    _root(
        "Izenpe.com",
        "2530CC8E98321502BAD96F9B1FBA1B099E2D299E0F4548BB914F363BC0D4531F",
        "1.3.6.1.4.1.14777.6.1.2",
    ),
    _root(
        "T-TeleSec GlobalRoot Class 3",
        "FD73DAD31C644FF1B43BEF0CCDDA96710B9CD9875ECA7E31707AF3E96D522BBD",
        "1.3.6.1.4.1.7879.13.24.1",
    ),
    _root(
        "TWCA Root Certification Authority",
        "BFD88FE1101C41AE3E801BF8BE56350EE9BAD1A6B9BD515EDC5C6D5B8711AC44",
        "1.3.6.1.4.1.40869.1.1.22.3",
    ),
    _root(
        "D-TRUST Root Class 3 CA 2 EV 2009",
        "EEC5496B988CE98625B934092EEC2908BED0B0F316C2D4730C84EAF1F3D34881",
        "1.3.6.1.4.1.4788.2.202.1",
    ),
    _root(
        "TWCA Global Root CA",
        "59769007F7685D0FCD50872F9F95D5755A5B2B457D81F3692B610A98672F0E1B",
        "1.3.6.1.4.1.40869.1.1.22.3",
    ),
    _root(
        "Actalis Authentication Root CA",
        "55926084EC963A64B96E2ABE01CE0BA86A64FBFEBCC7AAB5AFC155B37FD76066",
        "1.3.159.1.17.1",
    ),
    _root(
        "DigiCert Assured ID Root G2",
        "7D05EBB682339F8C9451EE094EEBFEFA7953A114EDB2F44949452FAB7D2FC185",
        "2.16.840.1.114412.2.1",
    ),
    _root(
        "DigiCert Assured ID Root G3",
        "7E37CB8B4C47090CAB36551BA6F45DB840680FBA166A952DB100717F43053FC2",
        "2.16.840.1.114412.2.1",
    ),
    _root(
        "DigiCert Global Root G2",
        "CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F",
        "2.16.840.1.114412.2.1",
    ),
    _root(
        "DigiCert Global Root G3",
        "31AD6648F8104138C738F39EA4320133393E3A18CC02296EF97C2AC9EF6731D0",
        "2.16.840.1.114412.2.1",
    ),
    _root(
        "DigiCert Trusted Root G4",
        "552F7BDCF1A7AF9E6CE672017F4F12ABF77240C78E761AC203D1D9D20AC89988",
        "2.16.840.1.114412.2.1",
    ),
    _root(
        "DigiCert TLS RSA4096 Root G5",
        "371A00DC0533B3721A7EEB40E8419E70799D2B0A0F2C1D80693165F7CEC4AD75",
        _CABF,
    ),
    _root(
        "DigiCert TLS ECC P384 Root G5",
        "018E13F0772532CF809BD1B17281867283FC48C6E13BE9C69812854A490C1B05",
        _CABF,
    ),
    _root(
        "QuoVadis Root CA 2 G3",
        "8FE4FB0AF93A4D0D67DB0BEBB23E37C71BF325DCBCDD240EA04DAF58B47E1840",
        "1.3.6.1.4.1.8024.0.2.100.1.2",
    ),
    _root(
        "COMODO RSA Certification Authority",
        "52F0E1C4E58EC629291B60317F074671B85D7EA80D5B07273463534B32B40234",
        "1.3.6.1.4.1.6449.1.2.1.5.1",
    ),
    _root(
        "USERTrust RSA Certification Authority",
        "E793C9B02FD8AA13E21C31228ACCB08119643B749C898964B1746D46C3D4CBD2",
        "1.3.6.1.4.1.6449.1.2.1.5.1",
    ),
    _root(
        "USERTrust ECC Certification Authority",
        "4FF460D54B9C86DABFBCFC5712E0400D2BED3FBC4D4FBDAA86E06ADCD2A9AD7A",
        "1.3.6.1.4.1.6449.1.2.1.5.1",
    ),
    _root(
        "GlobalSign ECC Root CA - R5",
        "179FBC148A3DD00FD24EA13458CC43BFA7F59C8182D783A513F6EBEC100C8924",
        _CABF,
    ),
    _root(
        "GlobalSign Root CA - R6",
        "2CABEAFE37D06CA22ABA7391C0033D25982952C453647349763A3AB5AD6CCF69",
        _CABF,
    ),
    _root(
        "Entrust Root Certification Authority - G2",
        "43DF5774B03E7FEF5FE40D931A7BEDF1BB2E6B42738C4E6D3841103D3AA7F339",
        "2.16.840.1.114028.10.1.2",
    ),
    _root(
        "Entrust Root Certification Authority - EC1",
        "02ED0EB28C14DA45165C566791700D6451D7FB56F0B2AB1D3B8EB070E56EDFF5",
        "2.16.840.1.114028.10.1.2",
    ),
    _root(
        "CFCA EV ROOT",
        "5CC3D78E4E1D5E45547A04E6873E64F90CF9536D1CCC2EF800F355C4C5FD70FD",
        "2.16.156.112554.3",
    ),
    _root(
        "Security Communication RootCA2",
        "513B2CECB810D4CDE5DD85391ADFC6C2DD60D87BB736D2B521484AA47A0EBEF6",
        "1.2.392.200091.100.721.1",
    ),
    _root(
        "OISTE WISeKey Global Root GB CA",
        "6B9C08E86EB0F767CFAD65CD98B62149E5494A67F5845E7BD1ED019F27B86BD6",
        "2.16.756.5.14.7.4.8",
    ),
    _root("Amazon Root CA 1", "8ECDE6884F3D87B1125BA31AC3FCB13D7016DE7F57CC904FE1CB97C6AE98196E", _CABF),
    _root("Amazon Root CA 2", "1BA5B2AA8C65401A82960118F80BEC4F62304D83CEC4713A19C39C011EA46DB4", _CABF),
    _root("Amazon Root CA 3", "18CE6CFE7BF14E60B2E347B8DFE868CB31D02EBB3ADA271569F50343B46DB3A4", _CABF),
    _root("Amazon Root CA 4", "E35D28419ED02025CFA69038CD623962458DA5C695FBDEA3C22B0BFB25897092", _CABF),
    _root(
        "Starfield Services Root Certificate Authority - G2",
        "568D6905A2C88708A4B3025190EDCFEDB1974A606A13C6E5290FCB2AE63EDAB5",
        _CABF,
    ),
    _root(
        "GDCA TrustAUTH R5 ROOT",
        "BFFF8FD04433487D6A8AA60C1A29767A9FC2BBB05E420F713A13B992891D3893",
        "1.2.156.112559.1.1.6.1",
    ),
    _root(
        "SSL.com EV Root Certification Authority ECC",
        "22A2C1F7BDED704CC1E701B5F408C310880FE956B5DE2A4A44F99C873A25A7C8",
        _CABF,
    ),
    _root(
        "SSL.com EV Root Certification Authority RSA R2",
        "2E7BF16CC22485A7BBE2AA8696750761B0AE39BE3B2FE9D0CC6D4EF73491425C",
        _CABF,
    ),
    _root(
        "SSL.com TLS ECC Root CA 2022",
        "C32FFD9F46F936D16C3673990959434B9AD60AAFBB9E7CF33654F144CC1BA143",
        _CABF,
    ),
    _root(
        "SSL.com TLS RSA Root CA 2022",
        "8FAF7D2E2CB4709BB8E0B33666BF75A5DD45B5DE480F8EA8D4BFE6BEBC17F2ED",
        _CABF,
    ),
    _root(
        "UCA Extended Validation Root",
        "D43AF9B35473755C9684FC06D7D8CB70EE5C28E773FB294EB41EE71722924D24",
        _CABF,
    ),
    _root(
        "Hongkong Post Root CA 3",
        "5A2FC03F0C83B090BBFA40604B0988446C7636183DF9846E17101A447FB8EFD6",
        _CABF,
    ),
    _root(
        "emSign Root CA - G1",
        "40F6AF0346A99AA1CD1D555A4E9CCE62C7F9634603EE406615833DC8C8D00367",
        _CABF,
    ),
    _root(
        "emSign ECC Root CA - G3",
        "86A1ECBA089C4A8D3BBE2734C612BA341D813E043CF9E8A862CD5C57A36BBE6B",
        _CABF,
    ),
    _root(
        "emSign Root CA - C1",
        "125609AA301DA0A249B97A8239CB6A34216F44DCAC9F3954B14292F2E8C8608F",
        _CABF,
    ),
    _root(
        "emSign ECC Root CA - C3",
        "BC4D809B15189D78DB3E1D8CF4F9726A795DA1643CA5F1358E1DDB0EDC0D7EB3",
        _CABF,
    ),
    _root(
        "certSIGN ROOT CA G2",
        "657CFE2FA73FAA38462571F332A2363A46FCE7020951710702CDFBB6EEDA3305",
        _CABF,
    ),
    _root(
        "IdenTrust Commercial Root CA 1",
        "5D56499BE4D2E08BCFCAD08A3E38723D50503BDE706948E42F55603019E528AE",
        _CABF,
    ),
    _root(
        "Trustwave Global Certification Authority",
        "97552015F5DDFC3C8788C006944555408894450084F100867086BC1A2BB58DC8",
        _CABF,
    ),
    _root(
        "Trustwave Global ECC P256 Certification Authority",
        "945BBC825EA554F489D1FD51A73DDF2EA624AC7019A05205225C22A78CCFA8B4",
        _CABF,
    ),
    _root(
        "Trustwave Global ECC P384 Certification Authority",
        "55903859C8C0C3EBB8759ECE4E2557225FF5758BBD38EBD48276601E1BD58097",
        _CABF,
    ),
    _root(
        "GlobalSign Root R46",
        "4FA3126D8D3A11D1C4855A4F807CBAD6CF919D3A5A88B03BEA2C6372D93C40C9",
        _CABF,
    ),
    _root(
        "GlobalSign Root E46",
        "CBB9C44D84B8043E1050EA31A69F514955D7BFD2E2C6B49301019AD61D9F5058",
        _CABF,
    ),
    _root(
        "AC RAIZ FNMT-RCM SERVIDORES SEGUROS",
        "554153B13D2CF9DDB753BFBE1A4E0AE08D0AA4187058FE60A2B862B2E4B87BCB",
        _CABF,
    ),
    _root(
        "GLOBALTRUST 2020",
        "9A296A5182D1D451A2E37F439B74DAAFA267523329F90F9A0D2007C334E23C9A",
        _CABF,
    ),
    _root(
        "Certum EC-384 CA",
        "6B328085625318AA50D173C98D8BDA09D57E27413D114CF787A0F5D06C030CF6",
        _CABF,
    ),
    _root(
        "Certum Trusted Root CA",
        "FE7696573855773E37A95E7AD4D9CC96C30157C15D31765BA9B15704E1AE78FD",
        _CABF,
    ),
    _root(
        "ANF Secure Server Root CA",
        "FB8FEC759169B9106B1E511644C618C51304373F6C0643088D8BEFFD1B997599",
        _CABF,
    ),
    _root(
        "HARICA TLS RSA Root CA 2021",
        "D95D0E8EDA79525BF9BEB11B14D2100D3294985F0C62D9FABD9CD999ECCB7B1D",
        _CABF,
    ),
    _root(
        "HARICA TLS ECC Root CA 2021",
        "3F99CC474ACFCE4DFED58794665E478D1547739F2E780F1BB4CA9B133097D401",
        _CABF,
    ),
    _root("vTrus Root CA", "8A71DE6559336F426C26E53880D00D88A18DA4C6A91F0DCB6194E206C5C96387", _CABF),
    _root("vTrus ECC Root CA", "30FBBA2C32238E2A98547AF97931E550428B9B3F1C8EEB6633DCFA86C5B27DD3", _CABF),
    _root(
        "Autoridad de Certificacion Firmaprofesional CIF A62634068",
        "57DE0583EFD2B26E0361DA99DA9DF4648DEF7EE8441C3B728AFA9BCDE0F9B26A",
        _CABF,
    ),
    _root(
        "NetLock Arany (Class Gold) Főtanúsítvány",
        "6C61DAC3A2DEF031506BE036D2A6FE401994FBD13DF9C8D466599274C446EC98",
        _CABF,
    ),
    _root(
        "D-TRUST EV Root CA 1 2020",
        "08170D1AA36453901A2F959245E347DB0C8D37ABAABC56B81AA100DC958970DB",
        _CABF,
    ),
    _root(
        "BJCA Global Root CA1",
        "F3896F88FE7C0A882766A7FA6AD2749FB57A7F3E98FB769C1FA7B09C2C44D5AE",
        _CABF,
    ),
    _root(
        "BJCA Global Root CA2",
        "574DF6931E278039667B720AFDC1600FC27EB66DD3092979FB73856487212882",
        _CABF,
    ),
    _root(
        "Sectigo Public Server Authentication Root E46",
        "C90F26F0FB1B4018B22227519B5CA2B53E2CA5B3BE5CF18EFE1BEF47380C5383",
        _CABF,
    ),
    _root(
        "Sectigo Public Server Authentication Root R46",
        "7BB647A62AEEAC88BF257AA522D01FFEA395E0AB45C73F93F65654EC38F25A06",
        _CABF,
    ),
    _root(
        "TrustAsia Global Root CA G3",
        "E0D3226AEB1163C2E48FF9BE3B50B4C6431BE7BB1EACC5C36B5D5EC509039A08",
        _CABF,
    ),
    _root(
        "TrustAsia Global Root CA G4",
        "BE4B56CB5056C0136A526DF444508DAA36A0B54F42E4AC38F72AF470E479654C",
        _CABF,
    ),
    _root(
        "Telekom Security TLS ECC Root 2020",
        "578AF4DED0853F4E5998DB4AEAF9CBEA8D945F60B620A38D1A3C13B2BC7BA8E1",
        _CABF,
    ),
    _root(
        "Telekom Security TLS RSA Root 2023",
        "EFC65CADBB59ADB6EFE84DA22311B35624B71B3B1EA0DA8B6655174EC8978646",
        _CABF,
    ),
    _root(
        "FIRMAPROFESIONAL CA ROOT-A WEB",
        "BEF256DAF26E9C69BDEC1602359798F3CAF71821A03E018257C53C65617F3D4A",
        _CABF,
    ),
    _root(
        "SecureSign Root CA12",
        "3F034BB5704D44B2D08545A02057DE93EBF3905FCE721ACBC730C06DDAEE904E",
        _CABF,
    ),
    _root(
        "SecureSign Root CA14",
        "4B009C1034494F9AB56BBA3BA1D62731FC4D20D8955ADCEC10A925607261E338",
        _CABF,
    ),
    _root(
        "SecureSign Root CA15",
        "E778F0F095FE843729CD1A0082179E5314A9C291442805E1FB1D8FB6B8886C3A",
        _CABF,
    ),
    _root(
        "TWCA CYBER Root CA",
        "3F63BB2814BE174EC8B6439CF08D6D56F0B7C405883A5648A334424D6B3EC558",
        _CABF,
    ),
    _root(
        "D-TRUST EV Root CA 2 2023",
        "8E8221B2E7D4007836A1672F0DCC299C33BC07D316F132FA1A206D587150F1CE",
        _CABF,
    ),
    _root(
        "TrustAsia TLS ECC Root CA",
        "C0076B9EF0531FB1A656D67C4EBE97CD5DBAA41EF44598ACC2489878C92D8711",
        _CABF,
    ),
    _root(
        "TrustAsia TLS RSA Root CA",
        "06C08D7DAFD876971EB1124FE67F847EC0C7A158D3EA53CBE940E2EA9791F4C3",
        _CABF,
    ),
    # GlobalSign's own EV OID on its two current EV roots: Chromium's net/data/ssl/ev_roots/ev_roots.textproto.
    # Firefox lists only the CA/Browser Forum OID for them (which EV certificates must carry anyway).
    _root(
        "GlobalSign Root CA - R3",
        "CBB522D7B7F127AD6A0113865BDF1CD4102E7D0759AF635A7CF4720DC963C53B",
        "1.3.6.1.4.1.4146.1.1",
    ),
    _root(
        "GlobalSign ECC Root CA - R5",
        "179FBC148A3DD00FD24EA13458CC43BFA7F59C8182D783A513F6EBEC100C8924",
        "1.3.6.1.4.1.4146.1.1",
    ),
)
"""Every (root, EV policy OID) pair Firefox enables (plus GlobalSign's own OID, as Chromium has it); a root with
two OIDs appears twice."""

EV_POLICY_OIDS: Final = frozenset({CA_BROWSER_FORUM_EV_OID, *(root.policy_oid for root in EV_ROOTS)})
"""Every OID that marks a certificate as EV under some root."""


def _policy_oids(cert: x509.Certificate) -> tuple[str, ...]:
    """The certificate's policy OIDs (dotted); ``ValueError`` when its extensions cannot be parsed."""
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(policy.policy_identifier.dotted_string for policy in policies)


def ev_status(
    leaf: x509.Certificate,
    verified_root: x509.Certificate | None,
    trusted_by_mozilla: bool,
    *,
    ev_roots: Iterable[EVRoot] = EV_ROOTS,
) -> EVStatus:
    """Whether ``leaf`` is EV given the root its chain was verified to (None: no verified chain).

    ``trusted_by_mozilla`` says whether that root is in the Mozilla store. ``ev_roots`` replaces the built-in
    data (tests, or a newer list).
    """
    roots = tuple(ev_roots)
    known_oids = {CA_BROWSER_FORUM_EV_OID, *(root.policy_oid for root in roots)}
    try:
        asserted = _policy_oids(leaf)
    except ValueError as error:
        return EVStatus(
            is_ev=False, matched_oid=None, ev_policy_oids=(), reason=f"the leaf's extensions cannot be read: {error}"
        )
    ev_oids = tuple(dict.fromkeys(oid for oid in asserted if oid in known_oids))

    def status(reason: str, matched: str | None = None) -> EVStatus:
        return EVStatus(is_ev=matched is not None, matched_oid=matched, ev_policy_oids=ev_oids, reason=reason)

    if not ev_oids:
        return status("the leaf asserts no EV policy OID")
    if verified_root is None:
        return status("the chain was not verified to a trusted root")
    if not trusted_by_mozilla:
        return status("the verified root is not in the Mozilla trust store")
    fingerprint = verified_root.fingerprint(hashes.SHA256())
    enabled = {root.policy_oid for root in roots if root.sha256_fingerprint == fingerprint}
    root_name = verified_root.subject.rfc4514_string()
    if not enabled:
        return status(f"the root {root_name!r} is not enabled for EV")
    enabled.add(CA_BROWSER_FORUM_EV_OID)  # every EV-enabled root may use the CA/Browser Forum OID
    for oid in ev_oids:
        if oid in enabled:
            return status(f"EV policy {oid} under the EV-enabled root {root_name!r}", oid)
    return status(f"the root {root_name!r} is not enabled for {', '.join(ev_oids)}")
