"""Person-name words (3+ letters) that mark an identifier as possibly personal (prepkit.ids): Faker's en_US
first and last names, the lists the synthesize operator draws from. Kept here as a literal so checking an
identifier never imports Faker (seconds); tests/test_harden_rag.py fails if Faker's lists change.
"""

NAME_WORDS = frozenset("""
aaron abbott abigail acevedo acosta adam adams adkins adrian adriana adrienne aguilar aguirre aimee alan albert alec
alejandra alejandro alex alexa alexander alexandra alexandria alexis alfred ali alice alicia alisha alison allen
allison alvarado alvarez alvin alyssa amanda amber amy ana andersen anderson andrade andre andrea andres andrew
andrews angel angela angelica angie anita ann anna anne annette anthony antonio april archer arellano ariana arias
ariel armstrong arnold arroyo arthur ashlee ashley atkins atkinson audrey austin autumn avery avila ayala ayers
bailey baird baker baldwin ball ballard banks barajas barbara barber barker barnes barnett barr barrera barrett
barron barry bartlett barton bass bates bauer bautista baxter bean beard beasley beck becker becky belinda bell
beltran bender benitez benjamin bennett benson bentley benton berg berger bernard berry best beth bethany betty
beverly bianca bill billy bird bishop black blackburn blackwell blair blake blanchard blankenship blevins bob bobby
bolton bond bonilla bonnie booker boone booth bowen bowers bowman boyd boyer boyle brad bradford bradley bradshaw
brady branch brandi brandon brandt brandy braun bray breanna brenda brendan brennan brent brett brewer brian briana
brianna bridges bridget briggs bright brittany brittney brock brooke brooks brown browning bruce bryan bryant bryce
buchanan buck buckley bullock burch burgess burke burnett burns burton bush butler byrd cabrera cain caitlin caitlyn
calderon caldwell caleb calhoun callahan calvin camacho cameron campbell campos candace candice cannon cantrell
cantu cardenas carey carl carla carlos carlson carly carmen carney carol caroline carolyn carpenter carr carrie
carrillo carroll carson carter case casey cassandra cassidy cassie castaneda castillo castro catherine cathy
cervantes cesar chad chambers chan chandler chaney chang chapman charlene charles charlotte chase chavez chelsea
chelsey chen cherry cheryl cheyenne chloe choi chris christensen christian christie christina christine christopher
christy chung church cindy cisneros claire clarence clark clarke claudia clay clayton clements clifford cline
clinton cobb cochran cody coffey cohen cole coleman colin colleen collier collin collins colon colton combs compton
conley conner connie connor conrad contreras conway cook cooke cooley cooper copeland cordova corey cortez cory
costa courtney cowan cox craig crane crawford cristian cristina crosby cross cruz crystal cuevas cummings cunningham
curry curtis cynthia daisy dakota dale dalton damon dan dana daniel danielle daniels danny darin darius darlene
darrell darren darryl daryl daugherty dave davenport david davidson davies davila davis dawn dawson day dean deanna
debbie deborah debra decker delacruz deleon delgado denise dennis derek derrick desiree destiny devin devon diamond
diana diane diaz dickerson dickson dillon dixon dodson dominguez dominic dominique don donald donaldson donna
donovan doris dorothy dorsey dougherty douglas downs doyle drake drew duane duarte dudley duffy duke duncan dunlap
dunn duran durham dustin dwayne dyer dylan earl eaton ebony eddie edgar eduardo edward edwards edwin eileen elaine
elijah elizabeth ellen elliott ellis ellison emily emma english eric erica erickson erik erika erin ernest escobar
esparza espinoza estes estrada ethan eugene evan evans evelyn everett ewing faith farley farmer farrell faulkner
felicia ferguson fernandez fernando ferrell fields figueroa finley fischer fisher fitzgerald fitzpatrick fleming
fletcher flores flowers floyd flynn foley forbes ford foster fowler fox frances francis francisco franco frank
franklin frazier fred frederick freeman french frey friedman fritz frost fry frye fuentes fuller gabriel gabriela
gabriella gabrielle gail gaines gallagher gallegos galloway galvan gamble garcia gardner garner garrett garrison
gary garza gates gavin gay gene gentry geoffrey george gerald gibbs gibson gilbert giles gill gillespie gilmore gina
glass glen glenda glenn gloria glover golden gomez gonzales gonzalez good goodman goodwin gordon gould grace graham
grant graves gray green greene greer greg gregg gregory griffin griffith grimes gross guerra guerrero gutierrez guy
guzman gwendolyn haas hahn hailey hale haley hall hamilton hammond hampton hancock haney hanna hannah hansen hanson
hardin harding hardy harmon harold harper harrell harrington harris harrison harry hart hartman harvey hatfield
hawkins hayden hayes hayley haynes hays heath heather hebert hector heidi helen henderson hendricks hendrix henry
hensley henson herbert herman hernandez herrera herring hess hester hickman hicks higgins hill hines hinton hobbs
hodge hodges hoffman hogan holden holder holland holloway holly holmes holt hood hooper hoover hopkins horn horne
horton house houston howard howe howell huang hubbard huber hudson huerta huff huffman hughes hull humphrey hunt
hunter hurley hurst hutchinson huynh ian ibarra ingram irwin isaac isabel isabella isaiah ivan jack jackie jackson
jaclyn jacob jacobs jacobson jacqueline jade jaime jake james jamie jane janet janice jared jarvis jasmin jasmine
jason javier jay jean jeanette jeanne jeff jefferson jeffery jeffrey jenkins jenna jennifer jennings jenny jensen
jeremiah jeremy jermaine jerome jerry jesse jessica jesus jill jillian jim jimenez jimmy joan joann joanna joanne
jocelyn jodi jody joe joel john johnathan johnny johns johnson johnston jon jonathan jonathon jones jordan jorge
jose joseph joshua joy joyce juan juarez judith judy julia julian julie justin kaiser kaitlin kaitlyn kane kara
karen kari karina karl karla katelyn katherine kathleen kathryn kathy katie katrina kaufman kayla kaylee keith
keller kelley kelli kellie kelly kelsey kemp kendra kennedy kenneth kent kerr kerri kerry kevin key khan kiara kidd
kim kimberly king kirby kirk kirsten klein kline knapp knight knox koch kramer krause krista kristen kristi kristie
kristin kristina kristine kristopher kristy krueger krystal kurt kyle kylie lacey lam lamb lambert lance landry lane
lang lara larry larsen larson latasha latoya laura lauren laurie lawrence lawson leach leah leblanc lee leon leonard
leroy leslie lester levi levine levy lewis lin linda lindsay lindsey lisa little liu livingston lloyd logan long
lonnie lopez loretta lori lorraine louis love lowe lowery lozano lucas lucero luis luke luna lutz lydia lynch lynn
lyons macdonald macias mack mackenzie madden maddox madeline madison mahoney makayla maldonado malik mallory malone
mandy mann manning manuel marc marcia marco marcus margaret maria mariah marie marilyn mario marisa marissa mark
marks marquez marsh marshall martha martin martinez marvin mary mason massey mata mathew mathews mathis matthew
matthews maureen maurice max maxwell may mayer maynard mayo mays mcbride mccall mccann mccarthy mccarty mcclain
mcclure mcconnell mccormick mccoy mccullough mcdaniel mcdonald mcdowell mcfarland mcgee mcgrath mcguire mcintosh
mcintyre mckay mckee mckenzie mckinney mcknight mclaughlin mclean mcmahon mcmillan mcneil mcpherson meadows meagan
medina megan meghan mejia melanie melendez melinda melissa melody melton melvin mendez mendoza mercado mercedes
mercer meredith merritt meyer meyers meza mia michael michaela micheal michele michelle middleton miguel mikayla
mike miles miller mills mindy miranda misty mitchell molina molly monica monique monroe montes montgomery montoya
moody moon mooney moore mora morales moran moreno morgan morris morrison morrow morse morton moses mosley moss moyer
mueller mullen mullins munoz murillo murphy murray myers nancy nash natalie natasha nathan nathaniel navarro neal
neil nelson newman newton nguyen nicholas nichole nichols nicholson nicolas nicole nielsen nina nixon noah noble
nolan norma norman norris norton novak nunez obrien ochoa oconnell oconnor odom odonnell oliver olivia olsen olson
omar oneal oneill orozco orr ortega ortiz osborn osborne oscar owen owens pace pacheco padilla page paige palmer pam
pamela park parker parks parrish parsons patel patricia patrick patterson patton patty paul paula payne pearson peck
pedro peggy pena pennington penny perez perkins perry peter peters petersen peterson petty pham phelps philip
phillip phillips phyllis pierce pineda pittman pitts pollard ponce poole pope porter potter potts powell powers
pratt preston price prince priscilla proctor pruitt pugh quinn rachael rachel ralph ramirez ramos ramsey randall
randolph randy rangel rasmussen raven ray raymond rebecca rebekah reed reese reeves regina reginald reid reilly
renee reyes reynolds rhodes rhonda ricardo rice rich richard richards richardson richmond rick rickey ricky riddle
riggs riley rios rita ritter rivas rivera rivers roach robbins roberson robert roberta roberto roberts robertson
robin robinson robles robyn rocha rodgers rodney rodriguez roger rogers rojas rollins roman romero ronald ronnie
rosales rosario rose ross roth rowe rowland roy ruben rubio ruiz rush russell russo ruth ryan sabrina salas salazar
salinas sally samantha sampson samuel sanchez sanders sandoval sandra sandy sanford santana santiago santos sara
sarah saunders savage savannah sawyer schaefer schmidt schmitt schneider schroeder schultz schwartz scott sean
selena sellers sergio serrano seth sexton shaffer shah shane shannon shari sharon sharp shaun shaw shawn shawna shea
sheena sheila shelby shelia shelley shelly shelton shepard shepherd sheppard sheri sherman sherri sherry sheryl
shields shirley short sierra silva simmons simon simpson sims singh singleton skinner sloan small smith snow snyder
solis solomon sonia sonya sophia sosa soto sparks spears spence spencer stacey stacie stacy stafford stanley stanton
stark steele stefanie stein stephanie stephen stephens stephenson steve steven stevens stevenson stewart stokes
stone stout strickland strong stuart suarez sue sullivan summer summers susan sutton suzanne swanson sweeney sydney
sylvia tabitha tamara tami tammie tammy tanner tanya tapia tara tasha tate taylor teresa terrance terrell terrence
terri terry theodore theresa thomas thompson thornton tiffany tim timothy tina todd tom tommy toni tony tonya torres
townsend tracey traci tracie tracy tran travis trevino trevor tricia tristan troy trujillo tucker turner tyler
tyrone underwood valdez valencia valentine valenzuela valerie vance vanessa vang vargas vasquez vaughan vaughn
vazquez vega velasquez velazquez velez vernon veronica vicki vickie victor victoria villa villanueva villarreal
villegas vincent virginia wade wagner walker wall wallace waller walls walsh walter walters walton wanda wang ward
ware warner warren washington waters watkins watson watts wayne weaver webb weber webster weeks weiss welch wells
wendy werner wesley west wheeler whitaker white whitehead whitney wiggins wilcox wiley wilkerson wilkins wilkinson
william williams williamson willie willis wilson winters wise wolf wolfe wong wood woodard woods woodward wright
wyatt xavier yang yates yesenia yoder yolanda york young yvette yvonne zachary zamora zavala zhang zimmerman zoe
zuniga
""".split())  # noqa: SIM905 - a word list reads better as one block
